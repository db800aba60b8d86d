"""Devices and array backends: parsing device strings, the clear error when CUDA is missing, and
tensors on "cuda" through the CuPy test double (which runs on the CPU and refuses any host/device
mixing), plus real CuPy tests that run only where a GPU exists."""

from __future__ import annotations

import numpy as np
import pytest

import tinylearn as tl
from tests import fakecupy
from tinylearn import backend
from tinylearn.backend import Device


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend CuPy is absent (or sees no GPU)."""
    monkeypatch.setattr(backend, "_cupy", False)


@pytest.fixture
def cuda(monkeypatch: pytest.MonkeyPatch):
    """Make "cuda" available through the CuPy test double."""
    monkeypatch.delenv("TINYLEARN_DEVICE", raising=False)
    return fakecupy.install(monkeypatch)


# --------------------------------------------------------------------------- device strings


def test_parse_cpu(no_cuda) -> None:
    d = tl.device("cpu")
    assert d == Device("cpu") and d.type == "cpu" and d.index is None
    assert str(d) == "cpu" and repr(d) == "device(type='cpu')"
    assert d == "cpu"
    assert tl.device(d) is d


def test_parse_cuda(cuda) -> None:
    d = tl.device("cuda")
    assert d.type == "cuda" and d.index == 0
    assert str(d) == "cuda:0" and repr(d) == "device(type='cuda', index=0)"
    assert d == "cuda" and d == "cuda:0" and d != "cpu"
    d1 = tl.device("cuda:1")
    assert d1.index == 1 and str(d1) == "cuda:1" and d1 != d
    assert tl.device("cuda:12").index == 12
    assert len({tl.device("cuda"), tl.device("cuda:0")}) == 1  # equal devices hash alike


@pytest.mark.parametrize(
    "spec",
    [
        "gpu",
        "CUDA",
        "Cuda",
        "cuda:",
        "cuda:x",
        "cuda:-1",
        "cuda:1:2",
        "cuda0",
        "",
        " cpu",
        "cpu:x",
        "mps",
        ":0",
    ],
)
def test_bad_device_strings_raise_value_error(spec: str, cuda) -> None:
    with pytest.raises(ValueError, match="expected 'cpu', 'cuda' or 'cuda:N'"):
        tl.device(spec)
    with pytest.raises(ValueError):
        tl.zeros(2, device=spec)


def test_device_of_the_wrong_type_raises_type_error() -> None:
    with pytest.raises(TypeError, match="string or Device"):
        tl.device(0.5)


# --------------------------------------------------------------------------- no CUDA


def test_cuda_without_cupy_is_a_clear_runtime_error(no_cuda) -> None:
    assert not tl.cuda_is_available()
    x = tl.ones(2)
    attempts = [
        lambda: tl.device("cuda"),
        lambda: tl.device("cuda:1"),
        lambda: tl.zeros(2, device="cuda"),
        lambda: tl.tensor([1.0], device="cuda"),
        lambda: tl.randn(2, device="cuda"),
        lambda: x.to("cuda"),
        lambda: x.cuda(),
        lambda: tl.zeros_like(x, device="cuda"),
    ]
    for attempt in attempts:
        with pytest.raises(RuntimeError, match="CUDA is not available") as info:
            attempt()
        message = str(info.value)
        assert "cuda12" in message and "CuPy" in message  # says how to get it
        assert "device='cpu'" in message  # and what to do instead


def test_tinylearn_device_env_without_cupy(no_cuda, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYLEARN_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        tl.zeros(2)
    assert tl.zeros(2, device="cpu").device == "cpu"  # an explicit device still works


def test_cupy_detection_survives_any_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Importing cupy can fail in many ways (no wheel, no driver, a broken CUDA): all mean "no GPU"."""
    import builtins

    real_import = builtins.__import__

    def broken_import(name, *args, **kwargs):
        if name == "cupy":
            raise OSError("libcuda.so.1: cannot open shared object file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(builtins, "__import__", broken_import)
    assert not tl.cuda_is_available()
    assert backend._cupy is False


# --------------------------------------------------------------------------- on "cuda" (the test double)


def test_tensors_created_on_cuda(cuda) -> None:
    x = tl.tensor([1.0, 2.0], device="cuda")
    assert x.device == "cuda:0" and str(x.device) == "cuda:0" and x.is_cuda
    assert isinstance(x.data, cuda.ndarray) and not isinstance(x.data, np.ndarray)
    made = [
        tl.zeros(2, 3, device="cuda"),
        tl.ones(2, device="cuda"),
        tl.empty(2, device="cuda"),
        tl.full((2,), 3.0, device="cuda"),
        tl.arange(4, device="cuda"),
        tl.linspace(0, 1, 3, device="cuda"),
        tl.eye(2, device="cuda"),
        tl.rand(2, device="cuda"),
        tl.randn(2, device="cuda"),
        tl.randint(0, 5, (3,), device="cuda"),
        tl.tensor(np.arange(3.0), device="cuda"),
        tl.zeros_like(x),
        tl.ones_like(x),
        tl.randn_like(x),
        tl.full_like(x, 2.0),
        tl.rand(2, device=tl.device("cuda")),
    ]
    for t in made:
        assert t.device == "cuda:0" and isinstance(t.data, cuda.ndarray), t
    assert tl.arange(4, device="cuda").tolist() == [0, 1, 2, 3]
    assert tl.full((2,), 3.0, device="cuda").dtype == tl.float32
    assert tl.zeros_like(x, device="cpu").device == "cpu"
    assert repr(x) == "tensor([1., 2.], device='cuda:0')"


def test_reading_values_back_from_cuda(cuda) -> None:
    x = tl.tensor([[1.5, 2.0]], device="cuda")
    arr = x.numpy()
    assert isinstance(arr, np.ndarray)
    np.testing.assert_array_equal(arr, [[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]]
    assert x[0, 0].item() == 1.5
    assert float(x.sum()) == 3.5


def test_the_same_seed_gives_the_same_numbers_on_every_device(cuda) -> None:
    tl.manual_seed(3)
    on_cpu = tl.randn(5).numpy()
    tl.manual_seed(3)
    np.testing.assert_array_equal(tl.randn(5, device="cuda").numpy(), on_cpu)


def test_to_cpu_and_cuda_round_trip(cuda) -> None:
    x = tl.tensor([1.0, -2.0, 3.0])
    g = x.cuda()
    assert g.device == "cuda:0" and isinstance(g.data, cuda.ndarray)
    assert g.to("cuda") is g and g.cuda() is g
    for back in (g.cpu(), g.to("cpu"), g.to(tl.device("cpu")), g.to(x)):
        assert back.device == "cpu" and isinstance(back.data, np.ndarray)
        np.testing.assert_array_equal(back.numpy(), x.numpy())
    both = x.to("cuda", tl.float64)
    assert both.device == "cuda:0" and both.dtype == tl.float64
    assert x.to(device="cuda", dtype=tl.float16).dtype == tl.float16
    assert g.to(tl.zeros(1, dtype=tl.float64)).device == "cpu"  # to(other) takes its device too


def test_gradients_flow_back_across_devices(cuda) -> None:
    x = tl.tensor([1.0, 2.0, 3.0], requires_grad=True)  # a CPU leaf
    y = (x.cuda() * x.cuda()).exp().log()  # computed on the device
    z = y.cpu().sum() * 2
    z.backward()
    assert x.grad.device == "cpu" and isinstance(x.grad.data, np.ndarray)
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.detach().numpy(), rtol=1e-6)

    w = tl.tensor([[1.0, 2.0], [3.0, 4.0]], device="cuda", requires_grad=True)  # a device leaf
    loss = (w.cpu() @ tl.tensor([1.0, -1.0])).pow(2).sum()
    loss.backward()
    assert w.grad.device == "cuda:0" and isinstance(w.grad.data, cuda.ndarray)
    np.testing.assert_allclose(w.grad.numpy(), [[-2.0, 2.0], [-2.0, 2.0]])


def test_a_small_model_trains_on_cuda(cuda) -> None:
    tl.manual_seed(0)
    xs = tl.randn(16, 3, device="cuda")
    ys = xs @ tl.tensor([1.0, -2.0, 0.5], device="cuda")
    w = tl.zeros(3, device="cuda", requires_grad=True)
    for _ in range(100):
        loss = ((xs @ w - ys) ** 2).mean()
        w.grad = None
        loss.backward()
        with tl.no_grad():
            w -= 0.1 * w.grad
    assert isinstance(w.data, cuda.ndarray)
    np.testing.assert_allclose(w.detach().numpy(), [1.0, -2.0, 0.5], atol=1e-3)


def test_higher_order_gradients_on_cuda(cuda) -> None:
    x = tl.tensor([0.3, -0.7], device="cuda", dtype=tl.float64, requires_grad=True)
    (g,) = tl.autograd.grad(x.tanh().sum(), x, create_graph=True)
    (gg,) = tl.autograd.grad(g.sum(), x)
    t = np.tanh([0.3, -0.7])
    assert isinstance(gg.data, cuda.ndarray)
    np.testing.assert_allclose(gg.numpy(), -2 * t * (1 - t**2), rtol=1e-12)


def test_inplace_updates_on_cuda(cuda) -> None:
    x = tl.zeros(3, device="cuda")
    x.add_(1)
    x[0] = 5.0
    x.mul_(tl.tensor([1.0, 2.0, 3.0], device="cuda"))
    x.copy_(x * 2)
    assert x.tolist() == [10.0, 4.0, 6.0] and isinstance(x.data, cuda.ndarray)
    x.copy_(tl.tensor([7.0, 8.0, 9.0]))  # copy_ moves its source across devices, as PyTorch
    assert x.tolist() == [7.0, 8.0, 9.0] and isinstance(x.data, cuda.ndarray)
    with pytest.raises(RuntimeError, match=r"cpu.*cuda:0"):
        x[0] = tl.tensor(1.0)


def _pair(cuda):
    cpu = tl.tensor([[1.0, 2.0], [3.0, 4.0]])
    return cpu, cpu.to("cuda")


MIXED = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": tl.maximum,
    "matmul": lambda a, b: a @ b,
    "cat": lambda a, b: tl.cat([a, b]),
    "stack": lambda a, b: tl.stack([a, b]),
    "where": lambda a, b: tl.where(a > 2, a, b),
    "where_condition": lambda a, b: tl.where(b > 2, a, a),
    "einsum": lambda a, b: tl.einsum("ij,jk->ik", a, b),
}


@pytest.mark.parametrize("op", list(MIXED))
@pytest.mark.parametrize("cpu_first", [True, False])
def test_mixing_devices_names_both(op: str, cpu_first: bool, cuda) -> None:
    cpu, dev = _pair(cuda)
    a, b = (cpu, dev) if cpu_first else (dev, cpu)
    with pytest.raises(RuntimeError, match="same device") as info:
        MIXED[op](a, b)
    message = str(info.value)
    assert "cpu" in message and "cuda:0" in message


def test_mixing_devices_with_grad_and_indices(cuda) -> None:
    cpu, dev = _pair(cuda)
    with pytest.raises(RuntimeError, match=r"cpu.*cuda:0|cuda:0.*cpu"):
        cpu.requires_grad_() * dev
    with pytest.raises(RuntimeError, match=r"cpu.*cuda:0|cuda:0.*cpu"):
        dev[tl.tensor([0, 1])]
    with pytest.raises(RuntimeError, match=r"cpu.*cuda:0|cuda:0.*cpu"):
        dev.gather(1, tl.zeros(2, 1, dtype=tl.int64))


def test_python_scalars_follow_the_tensor_to_its_device(cuda) -> None:
    _, dev = _pair(cuda)
    for out in (
        dev + 1,
        2.5 * dev,
        dev / 2,
        1 - dev,
        dev**2,
        dev > 2,
        dev.clamp(0, 2),
        tl.where(dev > 2, 1.0, 0.0),
    ):
        assert out.device == "cuda:0" and isinstance(out.data, cuda.ndarray)


def test_tinylearn_device_env_var(cuda, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINYLEARN_DEVICE", "cuda")
    made = [
        tl.zeros(2),
        tl.ones(2),
        tl.tensor([1.0, 2.0]),
        tl.tensor(np.ones(2)),
        tl.randn(2),
        tl.rand(2),
        tl.arange(3),
        tl.full((2,), 1),
        tl.eye(2),
        tl.linspace(0, 1, 2),
        tl.randint(0, 3, (2,)),
    ]
    for t in made:
        assert t.device == "cuda:0" and isinstance(t.data, cuda.ndarray)
    assert (tl.ones(2) + tl.zeros(2)).device == "cuda:0"
    assert tl.zeros(2, device="cpu").device == "cpu"
    assert tl.from_numpy(np.ones(2)).device == "cpu"  # from_numpy shares host memory: always the CPU
    monkeypatch.setenv("TINYLEARN_DEVICE", "cpu")
    assert tl.zeros(2).device == "cpu"
    monkeypatch.setenv("TINYLEARN_DEVICE", "tpu")
    with pytest.raises(ValueError, match="tpu"):
        tl.zeros(2)
    monkeypatch.delenv("TINYLEARN_DEVICE")
    assert tl.zeros(2).device == "cpu"


# --------------------------------------------------------------------------- real CuPy


# Asked once at collection, before any test installs the double: real CuPy and a real GPU.
_REAL = tl.cuda_is_available()


@pytest.mark.cuda
@pytest.mark.skipif(not _REAL, reason="needs CuPy and an NVIDIA GPU (pip install 'tinylearn[cuda12]')")
class TestRealCuPy:
    """The same checks on a real GPU; skipped where CuPy or a GPU is missing."""

    def test_tensors_live_on_the_gpu(self) -> None:
        import cupy

        x = tl.randn(4, 3, device="cuda")
        assert isinstance(x.data, cupy.ndarray) and x.device == "cuda:0"
        assert isinstance(x.numpy(), np.ndarray)
        np.testing.assert_array_equal(x.cpu().numpy(), x.numpy())

    def test_ops_and_gradients_match_the_cpu(self) -> None:
        rng = np.random.default_rng(0)
        a0, b0 = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
        results = {}
        for dev in ("cpu", "cuda"):
            a = tl.tensor(a0, device=dev, requires_grad=True)
            b = tl.tensor(b0, device=dev, requires_grad=True)
            out = ((a @ b).tanh().softmax(-1) * tl.arange(2, device=dev)).sum() + a.exp().mean()
            out.backward()
            results[dev] = (out.item(), a.grad.numpy(), b.grad.numpy())
        assert results["cuda"][0] == pytest.approx(results["cpu"][0], rel=1e-10)
        np.testing.assert_allclose(results["cuda"][1], results["cpu"][1], rtol=1e-9)
        np.testing.assert_allclose(results["cuda"][2], results["cpu"][2], rtol=1e-9)

    def test_higher_order_and_cross_device_gradients(self) -> None:
        x = tl.tensor([0.3, -0.7], dtype=tl.float64, requires_grad=True)
        (g,) = tl.autograd.grad(x.cuda().tanh().sum(), x, create_graph=True)
        (gg,) = tl.autograd.grad(g.sum(), x)
        t = np.tanh([0.3, -0.7])
        assert gg.device == "cpu"
        np.testing.assert_allclose(gg.numpy(), -2 * t * (1 - t**2), rtol=1e-12)

    def test_mixing_devices_is_a_clear_error(self) -> None:
        with pytest.raises(RuntimeError, match=r"cpu.*cuda:0|cuda:0.*cpu"):
            tl.ones(2) + tl.ones(2, device="cuda")

    def test_seeds_agree_across_devices(self) -> None:
        tl.manual_seed(5)
        on_cpu = tl.rand(6).numpy()
        tl.manual_seed(5)
        np.testing.assert_array_equal(tl.rand(6, device="cuda").numpy(), on_cpu)


def test_malloc_tuning_is_applied_on_linux_glibc_and_can_be_switched_off() -> None:
    import subprocess
    import sys

    from tinylearn import _allocator

    if sys.platform.startswith("linux"):
        assert _allocator.applied, "glibc malloc thresholds were not raised at import"
    code = "import tinylearn, tinylearn._allocator as a; print(a.applied)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**__import__("os").environ, "TINYLEARN_MALLOC": "default"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
