"""Real-data file handling on small generated files: IDX and CIFAR-10 binary parsing (good and
corrupt), the repacked .npz variant, checksums, atomic downloads, mirrors, offline errors, verify.

No test touches the network: ``files._open_url`` is replaced, and "mirrors" are file:// URLs.
"""

import gzip
import hashlib
import io
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import tinylearn as tl
from tinylearn.data import CIFAR10, MNIST, DataLoader, FashionMNIST, TinyShakespeare, files, read_idx
from tinylearn.data.cifar import read_cifar_binary
from tinylearn.data.files import CorruptFileError, DataNotFoundError, RemoteFile, Resource


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No network, no real cache: HOME and $TINYLEARN_DATA point into the test's folder."""

    def refuse(url, timeout):
        if url.startswith("file:"):
            return real_open(url, timeout)
        raise urllib.error.URLError("network is off in the tests")

    real_open = files._open_url
    monkeypatch.setattr(files, "_open_url", refuse)
    monkeypatch.delenv("TINYLEARN_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TQDM_DISABLE", "1")


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_gz(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data))
    return path


def spec_for(path: Path) -> RemoteFile:
    data = path.read_bytes()
    return RemoteFile(path.name, hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data))


def fake_mnist(folder: Path, n_train=12, n_test=5, seed=0):
    """Small MNIST-format files and the matching Resource (checksums of these files)."""
    rng = np.random.default_rng(seed)
    specs = []
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        specs.append(spec_for(write_gz(folder / f"{split}-images-idx3-ubyte.gz", idx_bytes(images))))
        specs.append(spec_for(write_gz(folder / f"{split}-labels-idx1-ubyte.gz", idx_bytes(labels))))
    return specs


def use_resource(monkeypatch, name, specs, mirrors=()):
    old = files.RESOURCES[name]
    monkeypatch.setitem(
        files.RESOURCES,
        name,
        Resource(old.name, old.folder, tuple(specs), tuple(mirrors), old.layouts, old.aliases),
    )


# ------------------------------------------------------------------------- IDX


def test_read_idx_round_trip(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (3, 4, 5), dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(write_gz(tmp_path / "a.gz", idx_bytes(images)), ndim=3), images)
    raw = tmp_path / "plain-idx"
    raw.write_bytes(idx_bytes(np.arange(6, dtype=np.int32).reshape(2, 3), type_code=0x0C))
    out = read_idx(raw)
    assert out.dtype == np.int32 and out.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_read_idx_bad_magic(tmp_path):
    bad = write_gz(tmp_path / "bad.gz", b"\x12\x34\x08\x03" + b"\x00" * 20)
    with pytest.raises(CorruptFileError, match=r"bad\.gz.*bad magic number 0x12340803"):
        read_idx(bad)
    labels = write_gz(tmp_path / "labels.gz", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(CorruptFileError, match=r"labels\.gz.*1 dimensions, expected 3"):
        read_idx(labels, ndim=3)


def test_read_idx_truncated(tmp_path):
    data = idx_bytes(np.zeros((10, 28, 28), np.uint8))
    short = write_gz(tmp_path / "short.gz", data[:-100])
    with pytest.raises(CorruptFileError, match=r"short\.gz: truncated.*\(10, 28, 28\)"):
        read_idx(short)
    cut_gzip = tmp_path / "cut.gz"
    cut_gzip.write_bytes(gzip.compress(data)[:40])
    with pytest.raises(CorruptFileError, match=r"cut\.gz: broken gzip data"):
        read_idx(cut_gzip)
    header_only = write_gz(tmp_path / "header.gz", data[:10])
    with pytest.raises(CorruptFileError, match="truncated IDX header"):
        read_idx(header_only)


def test_mnist_from_generated_files(monkeypatch, tmp_path):
    use_resource(monkeypatch, "mnist", fake_mnist(tmp_path / "mnist"))
    train = MNIST(root=tmp_path, download=False)
    assert train.data.shape == (12, 28, 28) and train.data.dtype == np.uint8
    assert train.targets.dtype == np.int64 and train.targets[:3].tolist() == [0, 1, 2]
    image, label = train[1]
    assert image.shape == (28, 28) and label == 1
    test = MNIST(root=tmp_path, train=False, transform=tl.data.transforms.ToTensor())
    image, _ = test[0]
    assert isinstance(image, tl.Tensor) and image.shape == (1, 28, 28)
    x, y = next(iter(DataLoader(test, batch_size=5)))
    assert x.shape == (5, 1, 28, 28) and y.tolist() == [0, 1, 2, 3, 4]
    X, _ = train.as_tensors(flatten=True)
    assert X.shape == (12, 784) and X.dtype == tl.float32 and float(X.max()) <= 1.0
    assert "Split: Train" in repr(train)


def test_mnist_torchvision_layout_and_env_root(monkeypatch, tmp_path):
    use_resource(monkeypatch, "fashion-mnist", fake_mnist(tmp_path / "FashionMNIST" / "raw"))
    monkeypatch.setenv("TINYLEARN_DATA", str(tmp_path))
    ds = FashionMNIST(train=False)
    assert len(ds) == 5 and ds.classes[0] == "T-shirt/top"


def test_checksum_failure_on_a_modified_file(monkeypatch, tmp_path):
    specs = fake_mnist(tmp_path / "mnist")
    use_resource(monkeypatch, "mnist", specs)
    path = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[-9] ^= 0xFF  # same size, different bytes
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=r"train-labels-idx1-ubyte\.gz is corrupt.*MD5"):
        MNIST(root=tmp_path, download=False)
    with pytest.raises(CorruptFileError, match="truncated"):
        path.write_bytes(bytes(data[:-5]))
        files.check_file(path, specs[1])


# ------------------------------------------------------------------------- downloads


def test_download_from_mirrors_verifies_and_skips_bad_ones(monkeypatch, tmp_path):
    server = tmp_path / "server"
    specs = fake_mnist(server)
    use_resource(monkeypatch, "mnist", specs, [(tmp_path / "nowhere").as_uri() + "/", server.as_uri() + "/"])
    root = tmp_path / "data"
    paths = tl.data.download("mnist", root=root)
    assert sorted(p.name for p in paths) == sorted(s.name for s in specs)
    assert all(p.parent == root / "mnist" for p in paths)
    for p in paths:
        assert p.read_bytes() == (server / p.name).read_bytes()
    assert not list((root / "mnist").glob(".*part")), "no temporary files left"
    assert len(MNIST(root=root)) == 12


def test_corrupt_file_is_downloaded_again(monkeypatch, tmp_path):
    server = tmp_path / "server"
    use_resource(monkeypatch, "mnist", fake_mnist(server), [server.as_uri() + "/"])
    root = tmp_path / "data"
    target = root / "mnist" / "t10k-labels-idx1-ubyte.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"garbage")
    with pytest.raises(CorruptFileError, match="t10k-labels"):
        MNIST(root=root, train=False, download=False)
    ds = MNIST(root=root, train=False, download=True)
    assert len(ds) == 5 and target.read_bytes() == (server / target.name).read_bytes()


def test_wrong_download_is_rejected_and_leaves_nothing(monkeypatch, tmp_path):
    server = tmp_path / "server"
    server.mkdir()
    (server / "input.txt").write_text("not shakespeare")
    spec = RemoteFile("input.txt", md5="0" * 32)
    dest = tmp_path / "data" / "input.txt"
    with pytest.raises(OSError, match="MD5"):
        files.download_file([server.as_uri() + "/input.txt"], dest, spec, progress=False)
    assert not dest.exists()
    assert not dest.parent.exists(), "a folder made for a failed download is removed again"


class BrokenResponse:
    """A response that delivers some bytes and then fails, as a dropped connection does."""

    def __init__(self):
        self.headers = {"Content-Length": "3000000"}
        self.calls = 0

    def read(self, n):
        self.calls += 1
        if self.calls > 2:
            raise ConnectionResetError("connection reset by peer")
        return b"x" * 1000

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_atomic_write_leaves_no_partial_file(monkeypatch, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    dest = folder / "big.bin"
    seen = []

    def open_url(url, timeout):
        seen.append(url)
        return BrokenResponse()

    monkeypatch.setattr(files, "_open_url", open_url)
    with pytest.raises(OSError, match="connection reset"):
        files.download_file(["http://a/big.bin", "http://b/big.bin"], dest, RemoteFile("big.bin", "0" * 32))
    assert seen == ["http://a/big.bin", "http://b/big.bin"], "every mirror is tried"
    assert list(folder.iterdir()) == [], "neither the file nor a temporary file remains"


def test_offline_error_names_files_and_folder(tmp_path):
    root = tmp_path / "data"
    with pytest.raises(DataNotFoundError) as info:
        MNIST(root=root, train=True)
    message = str(info.value)
    folder = root / "mnist"
    assert "Put these files there" in message and str(folder) in message
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        assert str(folder / name) in message
    assert "f68b3c2dcbeaaa9fbdd348bbdeb94873" in message and "network is off" in message
    assert not folder.exists(), "no empty folder is left behind"
    with pytest.raises(DataNotFoundError, match="download=False"):
        TinyShakespeare(root=root, download=False)
    with pytest.raises(FileNotFoundError):  # DataNotFoundError is a FileNotFoundError
        tl.data.download("fashion_mnist", root=root)


def test_cifar_offline_error_mentions_the_repacked_files(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"(?s)cifar-10-binary\.tar\.gz.*cifar10_train_jpeg_10k\.npz"):
        CIFAR10(root=tmp_path)


def test_progress_switch(monkeypatch):
    assert not files.progress_enabled(True)  # TQDM_DISABLE=1 from the fixture
    monkeypatch.delenv("TQDM_DISABLE")
    assert files.progress_enabled(True) and not files.progress_enabled(False)


def test_unknown_name():
    with pytest.raises(ValueError, match="known: mnist"):
        tl.data.download("imagenet")


def test_verify_reports_each_file(monkeypatch, tmp_path):
    specs = fake_mnist(tmp_path / "mnist")
    use_resource(monkeypatch, "mnist", specs)
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"changed")
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    checks = {c.name: c for c in tl.data.verify(tmp_path, names=["mnist"])}
    assert checks["train-images-idx3-ubyte.gz"].status == "ok"
    assert checks["t10k-images-idx3-ubyte.gz"].status == "corrupt"
    assert "bytes" in checks["t10k-images-idx3-ubyte.gz"].detail
    assert checks["t10k-labels-idx1-ubyte.gz"].status == "missing"
    assert str(checks["train-images-idx3-ubyte.gz"]).startswith("OK")
    everything = tl.data.verify(tmp_path)
    assert {c.dataset for c in everything} == {"mnist", "fashion-mnist", "cifar10", "tinyshakespeare"}


# ------------------------------------------------------------------------- CIFAR-10


def cifar_records(labels, seed=0):
    """Binary records; image k has red = k, green = 100 + k and random blue."""
    rng = np.random.default_rng(seed)
    out = []
    for k, label in enumerate(labels):
        planes = [np.full(1024, k, np.uint8), np.full(1024, 100 + k, np.uint8), rng.integers(0, 256, 1024)]
        out.append(bytes([label]) + np.concatenate(planes).astype(np.uint8).tobytes())
    return b"".join(out)


def cifar_tarball(path: Path, n_per_batch=3) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    with tarfile.open(path, "w:gz") as tar:
        for i, name in enumerate(names):
            data = cifar_records([(i + k) % 10 for k in range(n_per_batch)], seed=i)
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_read_cifar_binary_layout():
    images, labels = read_cifar_binary(cifar_records([3, 9]), "test")
    assert images.shape == (2, 32, 32, 3) and images.dtype == np.uint8
    assert labels.tolist() == [3, 9] and labels.dtype == np.int64
    assert np.all(images[1, ..., 0] == 1) and np.all(images[1, ..., 1] == 101)
    with pytest.raises(CorruptFileError, match="not a whole number of 3073-byte records"):
        read_cifar_binary(cifar_records([1, 2])[:-7], "cut.bin")
    with pytest.raises(CorruptFileError, match="label byte 200"):
        read_cifar_binary(cifar_records([200]), "bad.bin")


def test_cifar10_from_a_generated_tarball(monkeypatch, tmp_path):
    tarball = cifar_tarball(tmp_path / "cifar10" / "cifar-10-binary.tar.gz")
    use_resource(monkeypatch, "cifar10", [spec_for(tarball)])
    train = CIFAR10(root=tmp_path, download=False)
    assert train.data.shape == (15, 32, 32, 3) and train.targets[:4].tolist() == [0, 1, 2, 1]
    assert train.source.startswith("binary")
    test = CIFAR10(root=tmp_path, train=False, transform=tl.data.transforms.ToTensor())
    image, label = test[2]
    assert image.shape == (3, 32, 32) and label == 7
    np.testing.assert_allclose(image.numpy()[0], 2 / 255, rtol=1e-6)


def test_cifar10_extracted_folder_and_broken_tarball(monkeypatch, tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    (folder / "test_batch.bin").write_bytes(cifar_records([4, 5, 6, 7]))
    assert CIFAR10(root=tmp_path, train=False, download=False).targets.tolist() == [4, 5, 6, 7]
    (folder / "test_batch.bin").write_bytes(cifar_records([4, 5])[:100])
    with pytest.raises(CorruptFileError, match=r"test_batch\.bin.*truncated"):
        CIFAR10(root=tmp_path, train=False, download=False)
    tarball = tmp_path / "other" / "cifar10" / "cifar-10-binary.tar.gz"
    tarball.parent.mkdir(parents=True)
    tarball.write_bytes(cifar_tarball(tmp_path / "t.tar.gz").read_bytes()[:500])
    use_resource(monkeypatch, "cifar10", [spec_for(tarball)])  # checksum matches the damaged file
    with pytest.raises(CorruptFileError, match="unreadable archive"):
        CIFAR10(root=tmp_path / "other", download=False)


def test_cifar10_npz_variants(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar10"
    folder.mkdir()
    names = np.array(CIFAR10.classes)

    def imgs(n):
        return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)

    np.savez(folder / "cifar10_test_jpeg.npz", images=imgs(6), labels=np.arange(6), class_names=names)
    np.savez(
        folder / "cifar10_exact_subset.npz",
        train_images=imgs(4),
        train_labels=np.arange(4) + 1,
        test_images=imgs(2),
        test_labels=np.array([9, 8]),
        class_names=names,
    )
    test = CIFAR10(root=tmp_path, train=False)
    assert len(test) == 6 and test.source.startswith("jpeg")
    train = CIFAR10(root=tmp_path, train=True)  # no jpeg training file: the exact subset
    assert train.targets.tolist() == [1, 2, 3, 4] and train.source.startswith("exact")
    assert CIFAR10(root=tmp_path, train=False, source="exact").targets.tolist() == [9, 8]
    with pytest.raises(DataNotFoundError, match=r"cifar10_train_jpeg_10k\.npz"):
        CIFAR10(root=tmp_path, source="jpeg")
    np.savez(folder / "cifar10_train_jpeg_10k.npz", images=imgs(3)[:, :16], labels=np.arange(3))
    with pytest.raises(CorruptFileError, match=r"expected uint8 images \(N, 32, 32, 3\)"):
        CIFAR10(root=tmp_path)
    (folder / "cifar10_train_jpeg_10k.npz").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(CorruptFileError, match="unreadable"):
        CIFAR10(root=tmp_path)


# ------------------------------------------------------------------------- Tiny Shakespeare


def test_tiny_shakespeare_windows(monkeypatch, tmp_path):
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n" * 20
    path = tmp_path / "tinyshakespeare" / "input.txt"
    path.parent.mkdir()
    path.write_text(text)
    use_resource(monkeypatch, "tinyshakespeare", [spec_for(path)])
    ds = TinyShakespeare(root=tmp_path, block_size=8)
    assert ds.vocab == sorted(set(text)) and ds.text == text[: int(len(text) * 0.9)]
    x, y = ds[3]
    assert ds.decode(x) == text[3:11] and ds.decode(y) == text[4:12]
    assert len(ds) == len(ds.text) - 8
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 8) and xb.dtype == tl.int64 and tl.equal(xb[:, 1:], yb[:, :-1])
    val = TinyShakespeare(root=tmp_path, train=False, block_size=8)
    assert val.text == text[int(len(text) * 0.9) :]
    with pytest.raises(KeyError, match="vocabulary"):
        ds.encode("§")
