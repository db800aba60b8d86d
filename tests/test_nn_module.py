"""nn.Module, Parameter and the containers: registration, tree walks, modes, state_dict with
PyTorch's keys, load_state_dict errors, devices/dtypes, hooks and the printed tree."""

import copy
from collections import OrderedDict

import numpy as np
import pytest

import tinylearn as tl
from tinylearn import nn
from tinylearn.models import MLP


class Net(nn.Module):
    """Containers nested in a module, as a typical model nests them."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.BatchNorm1d(8))
        self.heads = nn.ModuleDict({"cls": nn.Linear(8, 3), "reg": nn.Linear(8, 1)})
        self.blocks = nn.ModuleList([nn.Linear(8, 8), nn.LayerNorm(8)])
        self.emb = nn.Embedding(5, 4)

    def forward(self, x):
        h = self.features(x)
        for block in self.blocks:
            h = block(h)
        return self.heads["cls"](h), self.heads["reg"](h)


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


# --------------------------------------------------------------------------- Parameter


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(tl.zeros(2, 3))
    assert isinstance(p, tl.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.shape == (2, 3)
    assert not nn.Parameter(tl.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    y = p * 2  # results of ops are plain Tensors
    assert type(y) is tl.Tensor and y.grad_fn is not None


def test_parameter_shares_memory_with_its_tensor():
    t = tl.zeros(3)
    p = nn.Parameter(t)
    with tl.no_grad():
        p.add_(1)
    assert t.tolist() == [1.0, 1.0, 1.0]


def test_parameter_repr():
    assert (
        repr(nn.Parameter(tl.tensor([1.0, 2.0])))
        == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    )


def test_parameter_of_integers_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(tl.tensor([1, 2]))


# --------------------------------------------------------------------------- registration


def test_attributes_are_sorted_into_parameters_buffers_and_modules():
    m = nn.Module()
    m.w = nn.Parameter(tl.ones(2))
    m.child = nn.Linear(2, 2)
    m.register_buffer("count", tl.tensor(0))
    m.plain = 3
    assert list(m._parameters) == ["w"] and list(m._modules) == ["child"] and list(m._buffers) == ["count"]
    assert m.w is m._parameters["w"] and m.child is m._modules["child"] and m.plain == 3
    m.count = tl.tensor(5)  # assigning a tensor to a buffer's name updates the buffer
    assert m._buffers["count"].item() == 5
    del m.w
    assert "w" not in m._parameters
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'w'"):
        m.w


def test_reassigning_keeps_the_registration_order():
    m = TwoLayer()
    m.fc1 = nn.Linear(3, 4)
    assert list(m._modules) == ["fc1", "fc2"]
    lin = nn.Linear(2, 2)
    lin.weight = nn.Parameter(tl.zeros(2, 2))
    assert list(lin._parameters) == ["weight", "bias"]


def test_registration_errors():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'Tensor' as parameter 'weight'"):
        m.weight = tl.zeros(2, 2)
    with pytest.raises(TypeError, match="Parameter or None required"):
        m.register_parameter("w2", tl.zeros(2))
    with pytest.raises(KeyError, match="must be non-empty and contain no"):
        m.register_parameter("a.b", nn.Parameter(tl.zeros(1)))
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        m.register_buffer("forward", tl.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None required"):
        m.register_buffer("buf", [1, 2])
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("sub", 3)


def test_register_parameter_rejects_non_leaf():
    p = nn.Parameter(tl.ones(1))
    q = p * 2
    q.__class__ = nn.Parameter  # a Parameter that is the output of an op
    with pytest.raises(ValueError, match="non-leaf"):
        nn.Module().register_parameter("q", q)


def test_assigning_before_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tl.zeros(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Broken()


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(tl.zeros(1))


# --------------------------------------------------------------------------- walking the tree


def test_named_parameters_children_and_modules():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
        "heads.cls.weight", "heads.cls.bias", "heads.reg.weight", "heads.reg.bias",
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "emb.weight",
    ]  # fmt: skip
    assert len(list(net.parameters())) == len(names)
    assert [n for n, _ in net.named_children()] == ["features", "heads", "blocks", "emb"]
    assert [n for n, _ in net.named_modules()] == [
        "", "features", "features.0", "features.1", "features.2", "heads", "heads.cls", "heads.reg",
        "blocks", "blocks.0", "blocks.1", "emb",
    ]  # fmt: skip
    assert len(list(net.modules())) == 12
    assert [n for n, _ in net.named_parameters(prefix="model", recurse=False)] == []
    assert [n for n, _ in net.features[0].named_parameters(prefix="fc")] == ["fc.weight", "fc.bias"]
    assert [n for n, _ in net.named_buffers()] == [
        "features.2.running_mean", "features.2.running_var", "features.2.num_batches_tracked",
    ]  # fmt: skip
    assert net.get_submodule("heads.cls") is net.heads["cls"]
    with pytest.raises(AttributeError, match="no submodule `nope`"):
        net.get_submodule("heads.nope")


def test_shared_parameters_come_once_but_are_saved_under_every_name():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4)
            self.out = nn.Linear(4, 10, bias=False)
            self.out.weight = self.emb.weight

    m = Tied()
    assert [n for n, _ in m.named_parameters()] == ["emb.weight"]
    assert list(m.state_dict()) == ["emb.weight", "out.weight"]
    assert m.num_parameters() == 40 and nn.count_parameters(m) == 40


def test_shared_module_comes_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.modules())) == 3
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_non_persistent_buffers_are_not_saved():
    m = nn.Module()
    m.register_buffer("kept", tl.zeros(2))
    m.register_buffer("scratch", tl.zeros(2), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]
    assert list(m.state_dict()) == ["kept"]
    m.load_state_dict({"kept": np.ones(2)})


def test_apply_visits_children_first_then_self():
    seen = []
    Net().apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[:4] == ["Linear", "ReLU", "BatchNorm1d", "Sequential"]

    def init_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net = Net().apply(init_linear)
    assert float(net.heads["cls"].weight.abs().sum()) == 0.0


# --------------------------------------------------------------------------- modes and gradients


def test_train_and_eval_reach_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="boolean"):
        net.train("no")


def test_zero_grad():
    m = TwoLayer()
    m(tl.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and float(p.grad.abs().sum()) == 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_requires_grad_and_parameter_counts():
    m = TwoLayer()
    assert m.num_parameters() == 3 * 4 + 4 + 4 * 2 + 2 == 26
    assert m.fc1.requires_grad_(False) is m.fc1
    assert m.num_parameters(trainable_only=True) == 10
    assert nn.count_parameters(m, trainable_only=True) == 10
    assert not m.fc1.weight.requires_grad


# --------------------------------------------------------------------------- state_dict keys: PyTorch's


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (nn.Linear(4, 3), {"weight": (3, 4), "bias": (3,)}),
        (nn.Linear(4, 3, bias=False), {"weight": (3, 4)}),
        (nn.BatchNorm1d(5), {"weight": (5,), "bias": (5,), "running_mean": (5,), "running_var": (5,),
                             "num_batches_tracked": ()}),
        (nn.BatchNorm1d(5, affine=False),
         {"running_mean": (5,), "running_var": (5,), "num_batches_tracked": ()}),
        (nn.BatchNorm1d(5, track_running_stats=False), {"weight": (5,), "bias": (5,)}),
        (nn.LayerNorm(6), {"weight": (6,), "bias": (6,)}),
        (nn.LayerNorm((2, 3), bias=False), {"weight": (2, 3)}),
        (nn.LayerNorm(6, elementwise_affine=False), {}),
        (nn.Embedding(10, 3), {"weight": (10, 3)}),
        (nn.Embedding(10, 3, padding_idx=0), {"weight": (10, 3)}),
        (nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)),
         {"0.weight": (3, 2), "0.bias": (3,), "2.weight": (1, 3), "2.bias": (1,)}),
        (nn.ModuleList([nn.Linear(2, 2), nn.Dropout(), nn.LayerNorm(2)]),
         {"0.weight": (2, 2), "0.bias": (2,), "2.weight": (2,), "2.bias": (2,)}),
        (nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.GELU()}), {"enc.weight": (3, 2), "enc.bias": (3,)}),
        (nn.CrossEntropyLoss(weight=tl.ones(3)), {"weight": (3,)}),
        (nn.BCEWithLogitsLoss(pos_weight=tl.ones(2)), {"pos_weight": (2,)}),
        (nn.Sequential(nn.ReLU(), nn.Identity(), nn.Flatten(), nn.Dropout(0.1)), {}),
    ],
)  # fmt: skip
def test_state_dict_keys_and_shapes_are_pytorchs(module, expected):
    sd = module.state_dict()
    assert list(sd) == list(expected)  # same keys, same order
    assert shapes(module) == expected


def test_state_dict_of_nested_containers():
    expected = [
        "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
        "features.2.running_mean", "features.2.running_var", "features.2.num_batches_tracked",
        "heads.cls.weight", "heads.cls.bias", "heads.reg.weight", "heads.reg.bias",
        "blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "emb.weight",
    ]  # fmt: skip
    sd = Net().state_dict()
    assert list(sd) == expected
    assert sd["features.2.num_batches_tracked"].dtype == tl.int64
    assert sd["features.0.weight"].shape == (8, 4) and sd["emb.weight"].shape == (5, 4)


def test_state_dict_of_mlp_is_a_sequentials():
    m = MLP(2, [4], 3, batch_norm=True, dropout=0.5)
    assert list(m.state_dict()) == [
        "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
        "1.num_batches_tracked", "4.weight", "4.bias",
    ]  # fmt: skip


def test_state_dict_values_are_detached_and_share_memory():
    lin = nn.Linear(2, 2)
    sd = lin.state_dict()
    assert not sd["weight"].requires_grad and type(sd["weight"]) is tl.Tensor
    sd["weight"].data[0, 0] = 42.0
    assert lin.weight.data[0, 0] == 42.0
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight


# --------------------------------------------------------------------------- load_state_dict


def test_load_state_dict_round_trip_with_numpy_arrays():
    src, dst = Net(), Net()
    src.features(tl.randn(6, 4))  # move the running statistics away from their initial values
    arrays = {k: v.numpy() for k, v in src.state_dict().items()}
    result = dst.load_state_dict(arrays)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for k, v in dst.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), arrays[k])
    assert int(dst.features[2].num_batches_tracked) == 1
    assert dst.features[0].weight.requires_grad and isinstance(dst.features[0].weight, nn.Parameter)


def test_load_state_dict_copies_in_place_and_casts():
    lin = nn.Linear(2, 2)
    weight = lin.weight
    lin.load_state_dict({"weight": np.ones((2, 2), dtype=np.float64), "bias": tl.zeros(2)})
    assert lin.weight is weight and lin.weight.dtype == tl.float32
    assert lin.weight.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_load_state_dict_strict_reports_everything():
    m = TwoLayer()
    sd = dict(m.state_dict())
    del sd["fc2.bias"]
    sd["fc3.weight"] = tl.zeros(1)
    sd["fc1.weight"] = tl.zeros(3, 4)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for TwoLayer:")
    assert 'Missing key(s) in state_dict: "fc2.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "fc3.weight".' in msg
    assert (
        "size mismatch for fc1.weight: copying a param with shape (3, 4) from checkpoint, "
        "the shape in current model is (4, 3)." in msg
    )
    assert msg.index("Missing") < msg.index("Unexpected") < msg.index("size mismatch")


def test_load_state_dict_non_strict_returns_the_keys():
    m = TwoLayer()
    sd = {
        "fc1.weight": np.zeros((4, 3)),
        "fc1.bias": np.zeros(4),
        "extra": np.zeros(2),
        "fc2.other": np.zeros(1),
    }
    missing, unexpected = m.load_state_dict(sd, strict=False)
    assert missing == ["fc2.weight", "fc2.bias"] and unexpected == ["extra", "fc2.other"]
    assert float(m.fc1.weight.abs().sum()) == 0.0
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1\.bias"):
        m.load_state_dict({"fc1.bias": np.zeros(5)}, strict=False)  # shapes are checked even then


def test_load_state_dict_rejects_bad_values():
    with pytest.raises(RuntimeError, match='parameter named "weight", expected a Tensor or a NumPy array'):
        nn.Linear(1, 1).load_state_dict({"weight": [[1.0]], "bias": np.zeros(1)})
    with pytest.raises(TypeError, match="dict-like"):
        nn.Linear(1, 1).load_state_dict([("weight", np.zeros((1, 1)))])


def test_load_state_dict_into_batch_norm():
    bn = nn.BatchNorm1d(2)
    state = {"weight": np.array([2.0, 3.0]), "bias": np.zeros(2), "running_mean": np.array([1.0, -1.0]),
             "running_var": np.array([4.0, 9.0]), "num_batches_tracked": np.array(7)}  # fmt: skip
    bn.load_state_dict(state)
    bn.eval()
    out = bn(tl.tensor([[3.0, 2.0]]))
    np.testing.assert_allclose(
        out.detach().numpy(), [[2 * 2 / np.sqrt(4 + 1e-5), 3 * 3 / np.sqrt(9 + 1e-5)]], rtol=1e-6
    )
    assert int(bn.num_batches_tracked) == 7 and bn.num_batches_tracked.dtype == tl.int64


# --------------------------------------------------------------------------- devices and dtypes


def test_to_dtype_converts_floating_state_in_place():
    net = Net()
    net.features(tl.randn(3, 4)).sum().backward()
    weight = net.features[0].weight
    assert net.to(tl.float64) is net
    assert net.features[0].weight is weight and weight.dtype == tl.float64 and weight.grad.dtype == tl.float64
    assert net.features[2].running_mean.dtype == tl.float64
    assert net.features[2].num_batches_tracked.dtype == tl.int64
    assert net.float().features[0].weight.dtype == tl.float32
    assert net.half().features[0].weight.dtype == tl.float16
    assert net.double().emb.weight.dtype == tl.float64
    out, _ = net.eval()(tl.randn(2, 4, dtype=tl.float64))
    assert out.dtype == tl.float64
    with pytest.raises(TypeError, match="floating point dtypes"):
        net.to(tl.int64)


def test_to_device_cpu():
    lin = nn.Linear(2, 2)
    assert lin.to("cpu") is lin and lin.cpu() is lin
    assert lin.to(tl.zeros(1, dtype=tl.float64)).weight.dtype == tl.float64


# --------------------------------------------------------------------------- hooks


def test_forward_hooks_and_pre_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    pre = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = lin.register_forward_hook(lambda m, args, out: calls.append((m, out.shape)) or out + 1)
    out = lin(tl.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)))
    assert calls == [(lin, (3, 2))]
    pre.remove()
    post.remove()
    out = lin(tl.ones(1, 2))
    np.testing.assert_allclose(
        out.detach().numpy(), (tl.ones(1, 2) @ lin.weight.T + lin.bias).detach().numpy()
    )
    assert len(calls) == 1


def test_forward_pre_hook_may_return_a_single_value():
    relu = nn.ReLU()
    relu.register_forward_pre_hook(lambda m, args: -args[0])
    assert relu(tl.tensor([-1.0, 2.0])).tolist() == [1.0, 0.0]


# --------------------------------------------------------------------------- printing


@pytest.mark.parametrize(
    ("module", "text"),
    [
        (nn.Linear(4, 2), "Linear(in_features=4, out_features=2, bias=True)"),
        (nn.Linear(4, 2, bias=False), "Linear(in_features=4, out_features=2, bias=False)"),
        (nn.BatchNorm1d(3), "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"),
        (nn.LayerNorm(4), "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"),
        (nn.Embedding(10, 3), "Embedding(10, 3)"),
        (nn.Embedding(10, 3, padding_idx=0), "Embedding(10, 3, padding_idx=0)"),
        (nn.Dropout(), "Dropout(p=0.5, inplace=False)"),
        (nn.Flatten(), "Flatten(start_dim=1, end_dim=-1)"),
        (nn.Identity(), "Identity()"),
        (nn.ReLU(), "ReLU()"),
        (nn.ReLU(inplace=True), "ReLU(inplace=True)"),
        (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
        (nn.LeakyReLU(0.2, inplace=True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
        (nn.GELU(), "GELU(approximate='none')"),
        (nn.GELU("tanh"), "GELU(approximate='tanh')"),
        (nn.SiLU(), "SiLU()"),
        (nn.Sigmoid(), "Sigmoid()"),
        (nn.Tanh(), "Tanh()"),
        (nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)"),
        (nn.Softmax(dim=1), "Softmax(dim=1)"),
        (nn.LogSoftmax(dim=-1), "LogSoftmax(dim=-1)"),
        (nn.CrossEntropyLoss(), "CrossEntropyLoss()"),
        (nn.MSELoss(), "MSELoss()"),
        (nn.ModuleList(), "ModuleList()"),
    ],
)
def test_repr_of_leaves_is_pytorchs(module, text):
    assert repr(module) == text


def test_repr_of_a_tree():
    net = nn.Sequential(OrderedDict(fc=nn.Linear(2, 3), act=nn.ReLU(), inner=nn.Sequential(nn.Linear(3, 1))))
    assert repr(net) == (
        "Sequential(\n"
        "  (fc): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (act): ReLU()\n"
        "  (inner): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=1, bias=True)\n"
        "  )\n"
        ")"
    )


def test_repr_of_module_list_groups_repeats():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])
    assert repr(blocks) == (
        "ModuleList(\n  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)\n  (3): ReLU()\n)"
    )


def test_repr_with_extra_repr_and_children():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(1, 1)

        def extra_repr(self):
            return "width=1"

    assert repr(Block()) == "Block(\n  width=1\n  (fc): Linear(in_features=1, out_features=1, bias=True)\n)"


# --------------------------------------------------------------------------- containers


def test_sequential():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b] and list(head._modules) == ["0", "1"]
    x = tl.randn(4, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), c(b(a(x))).detach().numpy())
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and list(seq._modules) == ["0", "1", "2", "3"]
    d = nn.Tanh()
    seq[1] = d
    assert seq[1] is d and list(seq._modules) == ["0", "1", "2", "3"]
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2"] and seq[0] is d
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]
    assert seq.extend([nn.ReLU()]) is seq and len(seq) == 4


def test_sequential_from_ordered_dict():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(seq._modules) == ["fc", "act"] and isinstance(seq.fc, nn.Linear)
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.ReLU())
    layers.extend([nn.Linear(2, 1)])
    layers += [nn.Sigmoid()]
    layers.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in layers] == ["Linear", "Tanh", "ReLU", "Linear", "Sigmoid"]
    assert len(layers) == 5 and isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    assert list(layers.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    del layers[1]
    assert list(layers.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(NotImplementedError):
        layers(tl.zeros(1))
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(nn.ReLU())


def test_module_dict():
    d = nn.ModuleDict({"a": nn.Linear(1, 1)})
    d["b"] = nn.ReLU()
    d.update([("c", nn.Tanh())])
    assert list(d) == ["a", "b", "c"] and list(d.keys()) == ["a", "b", "c"] and "b" in d and len(d) == 3
    assert [type(m).__name__ for m in d.values()] == ["Linear", "ReLU", "Tanh"]
    assert isinstance(d.pop("b"), nn.ReLU) and "b" not in d
    assert list(d.state_dict()) == ["a.weight", "a.bias"]
    with pytest.raises(KeyError, match="attribute 'train' already exists"):
        d["train"] = nn.ReLU()
    d.clear()
    assert len(d) == 0


def test_deepcopy_gives_an_independent_model():
    net = Net()
    clone = copy.deepcopy(net)
    assert isinstance(clone.features[0].weight, nn.Parameter)
    assert clone.features[0].weight is not net.features[0].weight
    with tl.no_grad():
        clone.features[0].weight.fill_(0.0)
    assert float(net.features[0].weight.abs().sum()) > 0


# --------------------------------------------------------------------------- on a (fake) GPU


@pytest.fixture
def fake_cuda(monkeypatch):
    from tests import fakecupy

    return fakecupy.install(monkeypatch)  # "cuda" tensors now hold arrays that refuse NumPy


def test_everything_runs_on_the_device(fake_cuda):
    """Layers, losses, init and state_dict on "cuda": any NumPy call on device data would raise."""
    from tinylearn.nn import functional as F

    net = Net().to("cuda")
    assert isinstance(net.features[0].weight.data, fake_cuda.ndarray)
    assert (
        net.features[0].weight.device.type == "cuda"
        and net.features[2].num_batches_tracked.device.type == "cuda"
    )
    x, y = tl.randn(6, 4, device="cuda"), tl.tensor([0, 1, 2, 0, -100, 1], device="cuda")
    logits, value = net(x)
    loss = (
        F.cross_entropy(logits, y, weight=tl.ones(3, device="cuda"), label_smoothing=0.1)
        + F.cross_entropy(logits, F.softmax(logits.detach(), 1))
        + F.mse_loss(value, tl.zeros(6, 1, device="cuda"))
        + F.binary_cross_entropy_with_logits(
            value, tl.ones(6, 1, device="cuda"), pos_weight=tl.ones(1, device="cuda")
        )
        + F.binary_cross_entropy(value.sigmoid(), tl.ones(6, 1, device="cuda"))
        + F.huber_loss(value, tl.ones(6, 1, device="cuda"))
        + net.emb(tl.tensor([[0, 4]], device="cuda")).sum()
        + F.dropout(F.gelu(logits), 0.5).sum()
        + F.softplus(logits).sum()
        + nn.l2_penalty(net)
    )
    loss.backward()
    assert all(p.grad is not None and p.grad.device.type == "cuda" for p in net.parameters())
    for fn in (nn.init.trunc_normal_, nn.init.orthogonal_, nn.init.xavier_uniform_, nn.init.kaiming_normal_):
        fn(net.heads["cls"].weight)
    net.eval()(x)
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(logits, tl.tensor([0, 1, 2, 0, 5, 1], device="cuda"))
    with pytest.raises(IndexError, match="out of range"):
        net.emb(tl.tensor([7], device="cuda"))
    state = {k: v.cpu().numpy() for k, v in net.state_dict().items()}
    fresh = Net().to("cuda")
    fresh.load_state_dict(state)
    assert fresh.features[0].weight.device.type == "cuda"
    np.testing.assert_array_equal(fresh.features[0].weight.cpu().detach().numpy(), state["features.0.weight"])
    assert F.one_hot(tl.tensor([1, 0], device="cuda"), 3).device.type == "cuda"
    assert net.cpu().features[0].weight.device.type == "cpu"
