"""tinylearn.io: the safetensors reader/writer, save/load of state dicts, and training checkpoints.

Round trips of every dtype and shape; byte-for-byte agreement with the official ``safetensors``
package (skipped when it is not installed); atomic writes; a clear error for every kind of corrupt
or foreign file; no pickle anywhere; and bit-exact resumption of training from a checkpoint.
"""

import ast
import json
import math
import os
import struct
from pathlib import Path

import numpy as np
import pytest

import tinylearn as tl
import tinylearn.optim as optim
from tinylearn import io as tlio
from tinylearn import nn
from tinylearn.data import DataLoader, TensorDataset
from tinylearn.models import MLP
from tinylearn.nn import functional as F
from tinylearn.optim import lr_scheduler

IO_SOURCE = Path(tlio.__file__)

# Every dtype the format has and NumPy can hold; the U16/32/64 ones are read by load_numpy only.
TENSOR_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
NUMPY_ONLY_DTYPES = ["uint16", "uint32", "uint64"]
SHAPES = [(), (0,), (3, 0, 2), (1,), (7,), (2, 3, 4)]


def sample(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Values that stress the bytes: extremes of the integer range, NaN, ±inf, -0.0, subnormals."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    n = math.prod(shape)
    if dt.kind == "b":
        flat = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        flat = rng.integers(info.min, info.max, n, dtype=dt, endpoint=True)
        flat[: min(n, 2)] = [info.min, info.max][: min(n, 2)]
    else:
        flat = rng.standard_normal(n).astype(dt) * 100
        special = np.array([np.nan, np.inf, -np.inf, -0.0, np.finfo(dt).smallest_subnormal], dtype=dt)
        flat[: min(n, 5)] = special[: min(n, 5)]
    return flat.reshape(shape)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", TENSOR_DTYPES)
def test_round_trip_every_dtype_and_shape(tmp_path, dtype, shape):
    array = sample(dtype, shape)
    path = tmp_path / "t.safetensors"
    tlio.save({"as_tensor": tl.tensor(array), "as_array": array}, path)
    loaded = tlio.load(path)
    assert set(loaded) == {"as_tensor", "as_array"}
    for value in loaded.values():
        assert isinstance(value, tl.Tensor)
        assert same_bits(value.numpy(), array)
    for value in tlio.load_numpy(path).values():
        assert same_bits(value, array)


@pytest.mark.parametrize("dtype", NUMPY_ONLY_DTYPES)
def test_unsigned_dtypes_tinylearn_lacks_are_read_as_numpy(tmp_path, dtype):
    array = sample(dtype, (2, 3))
    path = tmp_path / "u.safetensors"
    tlio.save_file({"u": array}, path)
    assert same_bits(tlio.load_numpy(path)["u"], array)
    with pytest.raises(tlio.SafetensorsError, match="load_numpy"):
        tlio.load(path)


def test_non_contiguous_big_endian_and_parameter_inputs_are_stored_as_values(tmp_path):
    path = tmp_path / "x.safetensors"
    transposed = np.arange(12.0).reshape(3, 4).T  # Fortran order in memory
    big_endian = np.arange(5, dtype=">i4")
    sliced = tl.arange(10.0)[::3]
    parameter = nn.Parameter(tl.ones(2, 2))  # requires grad: saved without complaint
    tlio.save({"t": transposed, "be": big_endian, "s": sliced, "p": parameter}, path)
    out = tlio.load_numpy(path)
    np.testing.assert_array_equal(out["t"], transposed)
    np.testing.assert_array_equal(out["be"], big_endian)
    assert out["be"].dtype == np.int32 and out["be"].dtype.isnative
    np.testing.assert_array_equal(out["s"], [0.0, 3.0, 6.0, 9.0])
    np.testing.assert_array_equal(out["p"], np.ones((2, 2), np.float32))


def test_metadata_and_names_round_trip(tmp_path):
    path = tmp_path / "m.safetensors"
    names = ["0.weight", "encoder/layer.1", "é ü ß", "🙂", "a" * 300, "", 'with "quotes" and \\']
    metadata = {"epochs": "10", "note": "line\nbreak\ttab \x01 ünïcode 🙂", "empty": ""}
    tlio.save_file({name: np.full(2, i, np.int16) for i, name in enumerate(names)}, path, metadata)
    assert tlio.load_metadata(path) == metadata
    loaded = tlio.load_file(path)
    assert set(loaded) == set(names)
    for i, name in enumerate(names):
        np.testing.assert_array_equal(loaded[name].numpy(), [i, i])
    tlio.save_file({"x": np.zeros(1)}, path)
    assert tlio.load_metadata(path) == {}


def test_layout_follows_the_reference(tmp_path):
    """Header length, '__metadata__' first, tensors sorted by dtype rank then name, padding to 8."""
    path = tmp_path / "l.safetensors"
    tensors = {"b": np.zeros(2, np.float32), "a": np.zeros(3, np.uint8), "c": np.zeros(1, np.float64),
               "z": np.zeros((), bool), "y": np.zeros(1, np.float32)}  # fmt: skip
    tlio.save_file(tensors, path, {"k": "v"})
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0 and len(raw) == 8 + n + 2 * 4 + 3 + 8 + 1 + 4
    header_text = raw[8 : 8 + n].decode()
    header = json.loads(header_text)
    assert header_text.rstrip(" ") == json.dumps(header, separators=(",", ":"))  # compact, space-padded
    assert list(header) == ["__metadata__", "c", "b", "y", "a", "z"]
    assert header["z"] == {"dtype": "BOOL", "shape": [], "data_offsets": [23, 24]}
    assert header["c"]["data_offsets"] == [0, 8]


def test_bfloat16_is_widened_to_float32_exactly(tmp_path):
    values = np.array([1.0, -2.5, np.inf, 3.140625, -0.0], dtype=np.float32)
    top_halves = (values.view(np.uint32) >> 16).astype("<u2")
    header = json.dumps({"w": {"dtype": "BF16", "shape": [5], "data_offsets": [0, 10]}}).encode()
    header += b" " * (-len(header) % 8)
    path = tmp_path / "bf16.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + top_halves.tobytes())
    loaded = tlio.load(path)["w"]
    assert loaded.dtype == np.float32
    assert same_bits(loaded.numpy(), values)


def test_load_to_a_device(tmp_path):
    path = tmp_path / "d.safetensors"
    tlio.save({"x": tl.ones(3)}, path)
    assert tlio.load(path, device="cpu")["x"].device == tl.device("cpu")


def test_save_rejects_what_it_cannot_store(tmp_path):
    path = tmp_path / "bad.safetensors"
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"model\.state_dict\(\)"):
        tlio.save(model, path)
    with pytest.raises(TypeError, match="names must be strings"):
        tlio.save({1: tl.ones(1)}, path)
    with pytest.raises(ValueError, match="reserved"):
        tlio.save({"__metadata__": tl.ones(1)}, path)
    with pytest.raises(TypeError, match="only tensors"):
        tlio.save({"x": [1.0, 2.0]}, path)
    with pytest.raises(TypeError, match="cannot store"):
        tlio.save({"x": np.array(["a", "b"])}, path)
    with pytest.raises(TypeError, match="cannot store"):
        tlio.save({"x": np.zeros(2, np.complex64)}, path)
    with pytest.raises(TypeError, match="str -> str"):
        tlio.save({"x": tl.ones(1)}, path, metadata={"epochs": 10})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tlio.save({"x": tl.ones(1)}, tmp_path / "no_such_folder" / "x.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_state_dict_round_trip_into_a_fresh_model(tmp_path):
    tl.manual_seed(0)
    model = MLP(4, [8], 3, batch_norm=True)
    model(tl.randn(5, 4))  # move the batch-norm statistics off their initial values
    path = tmp_path / "mlp.safetensors"
    tlio.save(model.state_dict(), path)
    fresh = MLP(4, [8], 3, batch_norm=True)
    fresh.load_state_dict(tlio.load(path))
    for (key, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items(), strict=True):
        assert same_bits(a.numpy(), b.numpy()), key
    assert tlio.load(path)["1.num_batches_tracked"].dtype == np.int64


# --------------------------------------------------------------------------- the official package


@pytest.fixture
def official():
    return pytest.importorskip(
        "safetensors.numpy",
        reason="the official safetensors package is not installed (pip install safetensors)",
    )


def all_dtypes_dict() -> dict[str, np.ndarray]:
    tensors = {}
    for i, dtype in enumerate(TENSOR_DTYPES + NUMPY_ONLY_DTYPES):
        for j, shape in enumerate(SHAPES):
            tensors[f"{dtype}/{j}"] = sample(dtype, shape, seed=i * 10 + j)
    tensors["é unicode"] = np.arange(3, dtype=np.float32)
    return tensors


@pytest.mark.parametrize("metadata", [None, {}, {"format": "np"}, {"note": 'é\n\x01\x7f"\\ 🙂'}], ids=repr)
def test_bytes_equal_the_official_writer(tmp_path, official, metadata):
    tensors = all_dtypes_dict()
    path = tmp_path / "ours.safetensors"
    tlio.save_file(tensors, path, metadata)
    assert path.read_bytes() == official.save(tensors, metadata=metadata)
    if metadata != {}:  # safetensors 0.8 writes '{},"__metadata__":{}}', not JSON, for this one case
        tlio.save_file({}, path, metadata)
        assert path.read_bytes() == official.save({}, metadata=metadata)
        assert official.load(path.read_bytes()) == {}


def test_same_header_and_data_as_official_with_several_metadata_entries(tmp_path, official):
    """The reference keeps metadata in a hash map, so its order varies from run to run: compare the
    parsed header and the data part instead of the bytes."""
    tensors = all_dtypes_dict()
    metadata = {"a": "1", "b": "2", "c": "three"}
    path = tmp_path / "ours.safetensors"
    tlio.save_file(tensors, path, metadata)
    ours, theirs = path.read_bytes(), official.save(tensors, metadata=metadata)
    n_ours, n_theirs = struct.unpack("<Q", ours[:8])[0], struct.unpack("<Q", theirs[:8])[0]
    assert n_ours == n_theirs
    assert json.loads(ours[8 : 8 + n_ours]) == json.loads(theirs[8 : 8 + n_theirs])
    assert ours[8 + n_ours :] == theirs[8 + n_theirs :]


def test_official_reads_ours_and_we_read_theirs(tmp_path, official):
    tensors = all_dtypes_dict()
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    tlio.save_file(tensors, ours, {"by": "tinylearn"})
    official.save_file(tensors, str(theirs), metadata={"by": "safetensors"})
    read_by_them = official.load_file(str(ours))
    read_by_us = tlio.load_numpy(theirs)
    for name, array in tensors.items():
        assert same_bits(read_by_them[name], array), name
        assert same_bits(read_by_us[name], array), name
    assert tlio.load_metadata(theirs) == {"by": "safetensors"}


def test_official_reads_a_checkpoint(tmp_path, official):
    from safetensors import safe_open

    tl.manual_seed(0)
    model = MLP(3, [4], 2)
    opt = optim.Adam(model.parameters())
    F.mse_loss(model(tl.randn(2, 3)), tl.zeros(2, 2)).backward()
    opt.step()
    path = tmp_path / "ckpt.safetensors"
    tlio.save_checkpoint(path, model=model, optimizer=opt, epoch=1)
    with safe_open(str(path), framework="numpy") as f:
        assert f.metadata() == tlio.load_metadata(path)
        assert set(f.keys()) == set(tlio.load_numpy(path))
        assert same_bits(f.get_tensor("model/0.weight"), model[0].weight.detach().numpy())


# --------------------------------------------------------------------------- atomic writes


def write_old(path: Path) -> bytes:
    tlio.save({"old": tl.arange(4)}, path)
    return path.read_bytes()


@pytest.mark.parametrize(
    "error", [OSError("disk full"), KeyboardInterrupt()], ids=["OSError", "KeyboardInterrupt"]
)
def test_failure_mid_write_leaves_old_file_and_no_temp_file(tmp_path, monkeypatch, error):
    path = tmp_path / "model.safetensors"
    old = write_old(path)
    calls = []

    def half_then_fail(f, array):
        calls.append(array)
        if len(calls) == 2:
            f.write(array.reshape(-1).view(np.uint8)[: array.nbytes // 2])
            raise error
        f.write(array.reshape(-1).view(np.uint8))

    monkeypatch.setattr(tlio, "_write_tensor_bytes", half_then_fail)
    with pytest.raises(type(error)):
        tlio.save({"a": tl.randn(100), "b": tl.randn(100), "c": tl.randn(100)}, path)
    assert len(calls) == 2
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


@pytest.mark.parametrize("step", ["replace", "fsync"])
def test_failure_to_commit_leaves_old_file_and_no_temp_file(tmp_path, monkeypatch, step):
    path = tmp_path / "model.safetensors"
    old = write_old(path)

    def boom(*args, **kwargs):
        raise OSError(f"{step} failed")

    monkeypatch.setattr(os, step, boom)
    with pytest.raises(OSError, match=f"{step} failed"):
        tlio.save({"new": tl.ones(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("no")))
    with pytest.raises(OSError):
        tlio.save_checkpoint(tmp_path / "ckpt.safetensors", model=nn.Linear(2, 2))
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_successful_save_replaces_and_respects_umask(tmp_path):
    path = tmp_path / "model.safetensors"
    write_old(path)
    tlio.save({"new": tl.ones(3)}, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]
    assert set(tlio.load(path)) == {"new"}
    umask = os.umask(0)
    os.umask(umask)
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# --------------------------------------------------------------------------- corrupt and foreign files


def raw_file(header, data: bytes = b"", n: int | None = None) -> bytes:
    """A file with the given header (a dict, or raw bytes) and data part; ``n`` overrides the length."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text) if n is None else n) + text + data


def valid_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "valid.safetensors"
    tlio.save({"w": tl.ones(4, 4), "b": tl.zeros(4)}, path, {"k": "v"})
    return path.read_bytes()


F32x2 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
CORRUPT = {
    "empty file": (lambda v: b"", "empty"),
    "shorter than 8 bytes": (lambda v: b"\x10\x00\x00", "too short"),
    "truncated in the data": (lambda v: v[:-5], "truncated"),
    "truncated in the header": (lambda v: v[:40], "truncated"),
    "only the length": (lambda v: v[:8], "truncated"),
    "header length beyond the file": (lambda v: raw_file({"a": F32x2}, b"\0" * 8, n=10_000), "larger than"),
    "absurd header length": (lambda v: struct.pack("<Q", 2**62) + v[8:], "100 MB"),
    "zero header length": (lambda v: struct.pack("<Q", 0) + v[8:], "not valid JSON"),
    "invalid JSON": (lambda v: raw_file(b"{this is not json}"), "not valid JSON"),
    "header not UTF-8": (lambda v: raw_file(b'{"\xff\xfe": 1}'), "UTF-8"),
    "JSON array": (lambda v: raw_file(b"[1, 2, 3]"), "not an object"),
    "duplicate name": (lambda v: raw_file(b'{"a": 1, "a": 2}'), "appears twice"),
    "entry not an object": (lambda v: raw_file({"a": [1, 2]}), "not an object with dtype"),
    "unknown dtype": (lambda v: raw_file({"a": F32x2 | {"dtype": "F99"}}, b"\0" * 8), "unknown dtype 'F99'"),
    "dtype NumPy lacks": (
        lambda v: raw_file({"a": {"dtype": "F8_E4M3", "shape": [8], "data_offsets": [0, 8]}}, b"\0" * 8),
        "cannot represent",
    ),
    "negative shape": (lambda v: raw_file({"a": F32x2 | {"shape": [-2]}}, b"\0" * 8), "invalid shape"),
    "bad offsets": (
        lambda v: raw_file({"a": F32x2 | {"data_offsets": [0]}}, b"\0" * 8),
        "invalid data_offsets",
    ),
    "begin after end": (
        lambda v: raw_file({"a": F32x2 | {"data_offsets": [8, 0]}}, b"\0" * 8),
        "begin <= end",
    ),
    "size mismatch": (lambda v: raw_file({"a": F32x2 | {"shape": [3]}}, b"\0" * 8), "needs 12 bytes"),
    "offsets out of range": (
        lambda v: raw_file({"a": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}}, b"\0" * 8),
        "out of range",
    ),
    "overlapping tensors": (
        lambda v: raw_file({"a": F32x2, "b": F32x2 | {"data_offsets": [4, 12]}}, b"\0" * 12),
        "overlap",
    ),
    "gap between tensors": (
        lambda v: raw_file({"a": F32x2, "b": F32x2 | {"data_offsets": [12, 20]}}, b"\0" * 20),
        "belong to no tensor",
    ),
    "trailing bytes": (lambda v: raw_file({"a": F32x2}, b"\0" * 12), "belong to no tensor"),
    "metadata not strings": (lambda v: raw_file({"__metadata__": {"epochs": 3}}), "__metadata__"),
    "impossible shape": (
        lambda v: raw_file({"a": {"dtype": "F32", "shape": [0, 10**30], "data_offsets": [0, 0]}}),
        "impossible shape",
    ),
    "bool byte not 0 or 1": (
        lambda v: raw_file({"a": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07"),
        "other than 0 and 1",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_file_is_a_clear_error(tmp_path, case):
    make, expected = CORRUPT[case]
    path = tmp_path / "corrupt.safetensors"
    path.write_bytes(make(valid_bytes(tmp_path)))
    with pytest.raises(tlio.SafetensorsError, match=expected) as info:
        tlio.load(path)
    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value) and "not a valid safetensors file" in str(info.value)
    if case not in ("bool byte not 0 or 1", "impossible shape"):  # found only when the data is read
        with pytest.raises(tlio.SafetensorsError, match=expected):
            tlio.load_metadata(path)


# A protocol-4 pickle of {"weight": [1.0, 2.0]} (what torch.save's legacy format starts like),
# written out as bytes so that this test never imports pickle either.
PICKLE_BYTES = (
    b"\x80\x04\x95#\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x06weight\x94]\x94(G?\xf0\x00\x00\x00\x00\x00\x00"
    b"G@\x00\x00\x00\x00\x00\x00\x00es."
)


def write_png(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.imsave(path, np.zeros((4, 4)))


@pytest.mark.parametrize(
    ("kind", "write", "hint"),
    [
        ("pickle", lambda p: p.write_bytes(PICKLE_BYTES), "pickle"),
        ("png", write_png, "PNG image"),
        ("npz", lambda p: np.savez(p, w=np.ones(3)), "npz"),
        ("npy", lambda p: np.save(p, np.ones(3)), ".npy"),
        ("text", lambda p: p.write_text("hello, this is not a tensor file\n" * 3), ""),
        ("json", lambda p: p.write_text('{"weight": [1, 2, 3]}'), ""),
    ],
)
def test_foreign_file_is_a_clear_error(tmp_path, kind, write, hint):
    path = tmp_path / f"weights.{kind}"
    with open(path, "wb"):
        pass
    write(path)
    assert path.stat().st_size > 8
    with pytest.raises(tlio.SafetensorsError, match="not a valid safetensors file") as info:
        tlio.load(path)
    assert str(path) in str(info.value)
    assert hint in str(info.value)
    with pytest.raises(tlio.SafetensorsError):
        tlio.load_checkpoint(path, model=nn.Linear(2, 2))


# --------------------------------------------------------------------------- no pickle


def test_io_never_uses_pickle():
    tree = ast.parse(IO_SOURCE.read_text())
    forbidden = {
        "pickle",
        "cPickle",
        "_pickle",
        "dill",
        "cloudpickle",
        "joblib",
        "marshal",
        "shelve",
        "torch",
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not {alias.name.split(".")[0] for alias in node.names} & forbidden
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in forbidden
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load":
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in ("np", "numpy"):
                keywords = {k.arg: k.value for k in node.keywords}
                assert "allow_pickle" in keywords
                assert (
                    isinstance(keywords["allow_pickle"], ast.Constant)
                    and keywords["allow_pickle"].value is False
                )


def test_checkpoint_round_trip_runs_no_unpickler(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    for name in ("load", "loads", "Unpickler", "dump", "dumps", "Pickler"):
        monkeypatch.setattr(f"pickle.{name}", refuse)
    model = MLP(3, [4], 2)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = lr_scheduler.StepLR(opt, 2)
    path = tmp_path / "ckpt.safetensors"
    tlio.save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, extra={"a": np.ones(2)})
    tlio.load_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    tlio.load(path)


# --------------------------------------------------------------------------- checkpoints

N_SAMPLES, BATCH, EPOCHS = 96, 16, 4  # 6 batches an epoch; the checkpoint is taken after 2 epochs


def dataset() -> TensorDataset:
    rng = np.random.default_rng(42)
    x = rng.standard_normal((N_SAMPLES, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] ** 2 > 0.5).astype(np.int64) + (x[:, 2] > 0)
    return TensorDataset(tl.tensor(x), tl.tensor(y))


def build(optimizer: str, scheduler: str):
    model = MLP(4, [16, 16], 3, dropout=0.3)
    if optimizer == "adam":
        opt = optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    elif optimizer == "adamw-amsgrad":
        opt = optim.AdamW(model.parameters(), lr=1e-2, amsgrad=True)
    else:
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    total = EPOCHS * N_SAMPLES // BATCH
    if scheduler == "onecycle":
        sched = lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=total)
    elif scheduler == "step":
        sched = lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    elif scheduler == "lambda":
        sched = lr_scheduler.LambdaLR(opt, lambda t: 1.0 / (1 + 0.1 * t))
    elif scheduler == "sequential":
        warmup = lr_scheduler.LinearLR(opt, 0.1, 1.0, total_iters=4)
        sched = lr_scheduler.SequentialLR(opt, [warmup, lr_scheduler.CosineAnnealingLR(opt, 20)], [4])
    else:
        sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    loader = DataLoader(dataset(), batch_size=BATCH, shuffle=True)
    return model, opt, sched, loader


def train(model, opt, sched, loader, epochs: int, losses: list[float]) -> None:
    model.train()
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
                sched.step(loss.item())
            else:
                sched.step()
            losses.append(loss.item())


COMBOS = [("adam", "onecycle"), ("sgd", "step"), ("sgd", "onecycle"), ("adamw-amsgrad", "lambda"),
          ("adam", "sequential"), ("sgd", "plateau")]  # fmt: skip


@pytest.mark.parametrize(("optimizer", "scheduler"), COMBOS, ids=["-".join(c) for c in COMBOS])
def test_resume_is_bit_exact(tmp_path, optimizer, scheduler):
    # One run without a break.
    tl.manual_seed(0)
    model, opt, sched, loader = build(optimizer, scheduler)
    straight: list[float] = []
    train(model, opt, sched, loader, EPOCHS, straight)
    final = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    # The same run, stopped after half the epochs and saved...
    tl.manual_seed(0)
    model, opt, sched, loader = build(optimizer, scheduler)
    resumed: list[float] = []
    train(model, opt, sched, loader, EPOCHS // 2, resumed)
    path = tmp_path / "ckpt.safetensors"
    half = EPOCHS // 2 * len(loader)
    tlio.save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, epoch=EPOCHS // 2, step=half,
                         extra={"losses": resumed})  # fmt: skip
    del model, opt, sched, loader

    # ... then continued by a new process, in effect: other seeds, new objects, the checkpoint loaded.
    tl.manual_seed(12345)
    np.random.seed(7)
    model, opt, sched, loader = build(optimizer, scheduler)
    info = tlio.load_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    assert info["epoch"] == EPOCHS // 2 and info["step"] == half
    losses = list(info["extra"]["losses"])
    train(model, opt, sched, loader, EPOCHS - info["epoch"], losses)

    assert len(losses) == len(straight) == EPOCHS * len(loader)
    assert np.array_equal(np.array(losses), np.array(straight))
    for key, value in model.state_dict().items():
        assert np.array_equal(value.numpy(), final[key]), key
    assert straight[-1] < straight[0]  # it did learn something


def test_resume_restores_numpy_legacy_random_state(tmp_path):
    np.random.seed(3)
    np.random.standard_normal()  # leaves a cached Gaussian in the legacy state
    tl.manual_seed(5)
    path = tmp_path / "ckpt.safetensors"
    tlio.save_checkpoint(path, model=nn.Linear(2, 2))
    expected_np, expected_tl = np.random.standard_normal(4), tl.randn(4).numpy()
    np.random.seed(99)
    tl.manual_seed(99)
    tlio.load_checkpoint(path, model=nn.Linear(2, 2))
    assert np.array_equal(np.random.standard_normal(4), expected_np)
    assert np.array_equal(tl.randn(4).numpy(), expected_tl)
    tl.manual_seed(99)
    tlio.load_checkpoint(path, model=nn.Linear(2, 2), restore_rng=False)
    assert not np.array_equal(tl.randn(4).numpy(), expected_tl)


def test_checkpoint_file_layout(tmp_path):
    tl.manual_seed(0)
    model = MLP(3, [4], 2)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=10)
    F.mse_loss(model(tl.randn(2, 3)), tl.zeros(2, 2)).backward()
    opt.step()
    sched.step()
    path = tmp_path / "ckpt.safetensors"
    tlio.save_checkpoint(path, model=model, optimizer=opt, scheduler=sched, epoch=0, step=1)
    tensors = tlio.load(path)  # a checkpoint is a plain safetensors file: tl.load reads it all
    assert {"model/0.weight", "model/0.bias", "model/2.weight", "model/2.bias"} <= set(tensors)
    for i in range(4):
        assert {f"optimizer/state/{i}/exp_avg", f"optimizer/state/{i}/exp_avg_sq"} <= set(tensors)
    assert tensors["rng/tinylearn"].dtype == np.uint8
    meta = tlio.load_metadata(path)
    assert meta["format"] == "tinylearn.checkpoint" and meta["format_version"] == "1"
    assert meta["optimizer_class"] == "Adam" and meta["scheduler_class"] == "OneCycleLR"
    assert json.loads(meta["epoch"]) == 0 and json.loads(meta["step"]) == 1
    optimizer_json = json.loads(meta["optimizer"])
    assert optimizer_json["param_groups"][0]["betas"] == {
        "__tuple__": [opt.param_groups[0]["betas"][0], 0.999]
    }
    assert json.loads(meta["scheduler"])["last_epoch"] == 1

    fresh_model = MLP(3, [4], 2)
    fresh_opt = optim.Adam(fresh_model.parameters(), lr=1e-3)
    fresh_sched = lr_scheduler.OneCycleLR(fresh_opt, max_lr=0.01, total_steps=10)
    tlio.load_checkpoint(path, model=fresh_model, optimizer=fresh_opt, scheduler=fresh_sched)
    saved, loaded = opt.state_dict(), fresh_opt.state_dict()
    assert loaded["param_groups"] == saved["param_groups"]
    assert isinstance(loaded["param_groups"][0]["betas"], tuple)
    for i, state in saved["state"].items():
        assert loaded["state"][i]["step"] == state["step"] == 1
        assert same_bits(loaded["state"][i]["exp_avg"].numpy(), state["exp_avg"].numpy())
    assert fresh_sched.state_dict() == sched.state_dict()


def test_extra_round_trips_python_and_numpy_values(tmp_path):
    generator = tl.Generator().manual_seed(3)
    extra = {
        "best": float("inf"), "worst": float("-inf"), "nan": float("nan"), "history": [1.5, 2.25, None],
        "pair": (1, (2, "three")), "by_epoch": {0: "a", 1: "b"}, "flags": {True: 1},
        "uint": np.arange(3, dtype=np.uint32),
        "tensor": tl.ones(2, 2), "f32": np.float32(0.1), "f64": np.float64(-np.inf), "i8": np.int8(-3),
        "ok": np.bool_(True),
        "looks_tagged": {"__tensor__": "not a tensor"}, "loader_rng": generator.get_state(), "text": "é",
    }  # fmt: skip
    path = tmp_path / "ckpt.safetensors"
    tlio.save_checkpoint(path, model=nn.Linear(2, 2), extra=extra, epoch=np.int64(4))
    out = tlio.load_checkpoint(path, model=nn.Linear(2, 2))
    assert out["epoch"] == 4 and out["step"] is None
    got = out["extra"]
    assert got.keys() == extra.keys()
    assert got["best"] == math.inf and got["worst"] == -math.inf and math.isnan(got["nan"])
    assert got["history"] == [1.5, 2.25, None]
    assert got["pair"] == (1, (2, "three")) and isinstance(got["pair"][1], tuple)
    assert got["by_epoch"] == {0: "a", 1: "b"} and got["flags"] == {True: 1}
    assert isinstance(got["uint"], np.ndarray) and same_bits(got["uint"], extra["uint"])
    assert isinstance(got["tensor"], tl.Tensor) and same_bits(
        got["tensor"].numpy(), np.ones((2, 2), np.float32)
    )
    assert type(got["f32"]) is np.float32 and got["f32"] == np.float32(0.1)
    assert type(got["f64"]) is np.float64 and got["f64"] == -np.inf
    assert type(got["i8"]) is np.int8 and got["i8"] == -3 and type(got["ok"]) is np.bool_
    assert got["looks_tagged"] == {"__tensor__": "not a tensor"}
    restored = tl.Generator()
    restored.set_state(got["loader_rng"])
    assert np.array_equal(restored.permutation(10), generator.permutation(10))
    assert got["text"] == "é"


def test_extra_that_is_not_data_is_a_clear_error(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    with pytest.raises(TypeError, match=r"extra/callback.*function"):
        tlio.save_checkpoint(path, model=nn.Linear(2, 2), extra={"callback": lambda: 0})
    assert not path.exists()


class Warmup:
    """A callable lr_lambda with state: its attributes are saved, its function attribute skipped."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.shape = lambda t: t  # not data: skipped when saving, as PyTorch skips plain functions

    def __call__(self, t: int) -> float:
        return min(1.0, (t + 1) / self.steps)


def test_scheduler_functions_are_skipped_and_the_rest_restored(tmp_path):
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.LambdaLR(opt, [Warmup(7)])
    for _ in range(3):
        opt.step()
        sched.step()
    path = tmp_path / "ckpt.safetensors"
    tlio.save_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    assert json.loads(tlio.load_metadata(path)["scheduler_skipped"]) == ["scheduler/lr_lambdas/0/shape"]
    fresh_opt = optim.SGD(model.parameters(), lr=0.1)
    fresh_warmup = Warmup(100)
    fresh = lr_scheduler.LambdaLR(fresh_opt, [fresh_warmup])
    keep = fresh_warmup.shape
    tlio.load_checkpoint(path, model=model, optimizer=fresh_opt, scheduler=fresh)
    assert fresh.last_epoch == 3 and fresh_warmup.steps == 7 and fresh_warmup.shape is keep
    assert fresh.get_last_lr() == sched.get_last_lr()
    fresh.step()
    sched.step()
    assert fresh.get_last_lr() == sched.get_last_lr()


def test_plateau_scheduler_state_with_infinity(tmp_path):
    model = nn.Linear(2, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt)  # best = inf until the first step
    path = tmp_path / "ckpt.safetensors"
    tlio.save_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    fresh = lr_scheduler.ReduceLROnPlateau(opt, mode="min")
    fresh.best = 0.0
    tlio.load_checkpoint(path, model=model, optimizer=opt, scheduler=fresh)
    assert fresh.best == math.inf


def test_loading_into_a_model_of_other_shapes_is_nns_error(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    tlio.save_checkpoint(path, model=MLP(4, [8], 3))
    with pytest.raises(RuntimeError, match=r"size mismatch for 0\.weight.*\(8, 4\).*\(16, 4\)"):
        tlio.load_checkpoint(path, model=MLP(4, [16], 3))
    with pytest.raises(RuntimeError, match="Missing key"):
        tlio.load_checkpoint(path, model=MLP(4, [8, 8], 3))


def test_checkpoint_errors_name_the_problem(tmp_path):
    model = nn.Linear(2, 2)
    plain = tmp_path / "plain.safetensors"
    tlio.save(model.state_dict(), plain)
    with pytest.raises(tlio.CheckpointError, match="not a tinylearn checkpoint"):
        tlio.load_checkpoint(plain, model=model)

    weights_only = tmp_path / "weights.safetensors"
    tlio.save_checkpoint(weights_only, model=model)
    with pytest.raises(tlio.CheckpointError, match="no optimizer state"):
        tlio.load_checkpoint(weights_only, model=model, optimizer=optim.SGD(model.parameters()))

    adam = optim.Adam(model.parameters())
    F.mse_loss(model(tl.ones(1, 2)), tl.zeros(1, 2)).backward()
    adam.step()
    with_adam = tmp_path / "adam.safetensors"
    tlio.save_checkpoint(with_adam, model=model, optimizer=adam, scheduler=lr_scheduler.StepLR(adam, 3))
    with pytest.raises(tlio.CheckpointError, match=r"saved from a Adam.*into a SGD"):
        tlio.load_checkpoint(with_adam, model=model, optimizer=optim.SGD(model.parameters()))
    with pytest.raises(tlio.CheckpointError, match=r"saved from a StepLR.*into a ExponentialLR"):
        tlio.load_checkpoint(
            with_adam, model=model, optimizer=adam, scheduler=lr_scheduler.ExponentialLR(adam, 0.9)
        )
    info = tlio.load_checkpoint(with_adam, model=model)  # optimizer state ignored: weights only
    assert info == {"epoch": None, "step": None, "extra": None}

    arrays, meta = tlio.load_numpy(with_adam), tlio.load_metadata(with_adam)
    future = tmp_path / "future.safetensors"
    tlio.save_file(arrays, future, meta | {"format_version": "99"})
    with pytest.raises(tlio.CheckpointError, match="version 99 is newer"):
        tlio.load_checkpoint(future, model=model)
    broken = tmp_path / "broken.safetensors"
    tlio.save_file(arrays, broken, meta | {"optimizer": "{not json"})
    with pytest.raises(tlio.CheckpointError, match="metadata is corrupt"):
        tlio.load_checkpoint(broken, model=model, optimizer=adam)
    missing = tmp_path / "missing.safetensors"
    tlio.save_file({k: v for k, v in arrays.items() if "exp_avg_sq" not in k}, missing, meta)
    with pytest.raises(tlio.CheckpointError, match="exp_avg_sq"):
        tlio.load_checkpoint(missing, model=model, optimizer=adam)

    # A bad random-generator state is found before anything is loaded: the model keeps its weights.
    bad_rng = tmp_path / "bad_rng.safetensors"
    tlio.save_file(arrays | {"rng/tinylearn": np.frombuffer(b"garbage", np.uint8)}, bad_rng, meta)
    other = nn.Linear(2, 2)
    before = other.weight.detach().numpy().copy()
    with pytest.raises(tlio.CheckpointError, match="corrupt"):
        tlio.load_checkpoint(bad_rng, model=other)
    assert np.array_equal(other.weight.detach().numpy(), before)
    tlio.load_checkpoint(bad_rng, model=other, restore_rng=False)
    assert np.array_equal(other.weight.detach().numpy(), model.weight.detach().numpy())


def test_gpu_tensors_go_through_the_host(tmp_path, monkeypatch):
    """With the CuPy test double as the GPU: tensors on "cuda" are saved from the host and loaded back
    onto the device that ``device``/``map_location`` names, and training resumes there."""
    from tests import fakecupy

    fakecupy.install(monkeypatch)
    tl.manual_seed(0)
    model = MLP(3, [4], 2).to("cuda")
    opt = optim.Adam(model.parameters(), lr=0.01)
    x, y = tl.randn(5, 3, device="cuda"), tl.zeros(5, 2, device="cuda")
    F.mse_loss(model(x), y).backward()
    opt.step()
    weights = tmp_path / "gpu.safetensors"
    tlio.save(model.state_dict(), weights)
    loaded = tlio.load(weights, device="cuda")
    assert {t.device.type for t in loaded.values()} == {"cuda"}
    assert same_bits(loaded["0.weight"].cpu().numpy(), model[0].weight.detach().cpu().numpy())
    assert {t.device.type for t in tlio.load(weights).values()} == {"cpu"}

    ckpt = tmp_path / "ckpt.safetensors"
    tlio.save_checkpoint(ckpt, model=model, optimizer=opt, extra={"t": tl.ones(2, device="cuda")})
    fresh = MLP(3, [4], 2).to("cuda")
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.01)
    info = tlio.load_checkpoint(ckpt, model=fresh, optimizer=fresh_opt, map_location="cuda")
    assert info["extra"]["t"].device.type == "cuda"
    for opt_, model_ in ((opt, model), (fresh_opt, fresh)):
        opt_.zero_grad()
        F.mse_loss(model_(x), y).backward()
        opt_.step()
    for (key, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items(), strict=True):
        assert b.device.type == "cuda" and same_bits(a.cpu().numpy(), b.cpu().numpy()), key


def test_top_level_exports():
    if not hasattr(tl, "save_checkpoint"):
        pytest.skip("tinylearn/__init__.py does not export the io functions yet")
    assert tl.save is tlio.save and tl.load is tlio.load
    assert tl.save_checkpoint is tlio.save_checkpoint and tl.load_checkpoint is tlio.load_checkpoint
