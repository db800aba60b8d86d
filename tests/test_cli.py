"""The ``tinylearn`` command: --help, ``data verify`` and ``data download`` (offline), through ``cli.main``.

No test touches the network: ``files._open_url`` is replaced by one that refuses. (``tinylearn tour``
is run by the slow test in ``test_tour.py``.)
"""

from __future__ import annotations

import hashlib
import shutil
import urllib.error
from pathlib import Path

import pytest

from tinylearn import cli
from tinylearn.data import files
from tinylearn.data.files import RemoteFile, Resource

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    def refuse(url, timeout):
        raise urllib.error.URLError("network is off in the tests")

    monkeypatch.setattr(files, "_open_url", refuse)
    monkeypatch.delenv("TINYLEARN_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TQDM_DISABLE", "1")


def spec_for(name: str, data: bytes) -> RemoteFile:
    return RemoteFile(name, hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data))


@pytest.fixture
def toy_resource(monkeypatch):
    """A data set "toyset" of three files, known by their checksums, in place of the real ones."""
    contents = {"good.bin": b"good data " * 10, "bad.bin": b"other data" * 10, "absent.bin": b"x" * 7}
    res = Resource("toyset", "toyset", tuple(spec_for(n, d) for n, d in contents.items()))
    monkeypatch.setattr(files, "RESOURCES", {"toyset": res})
    return contents


# --------------------------------------------------------------------------- --help


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--help"], ["tour", "data", "TINYLEARN_DATA"]),
        (["tour", "--help"], ["--out", "offline"]),
        (["data", "--help"], ["download", "verify"]),
        (["data", "download", "--help"], ["NAME", "--root", "mnist", "cifar10"]),
        (["data", "verify", "--help"], ["DIR", "corrupt", "--dataset"]),
    ],
)
def test_help_describes_every_command(capsys, argv, expected) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for word in expected:
        assert word in text


def test_a_missing_command_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2
    assert "usage: tinylearn" in capsys.readouterr().err


# --------------------------------------------------------------------------- data verify


def test_verify_reports_good_corrupt_and_missing_files_and_fails_on_corrupt(
    tmp_path, capsys, toy_resource
) -> None:
    folder = tmp_path / "toyset"
    folder.mkdir()
    (folder / "good.bin").write_bytes(toy_resource["good.bin"])
    (folder / "bad.bin").write_bytes(toy_resource["bad.bin"][:-1] + b"!")  # same size, one byte changed
    assert cli.main(["data", "verify", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    rows = {line.split()[1]: line for line in captured.out.splitlines() if line.startswith("toyset")}
    assert rows.keys() == {"good.bin", "bad.bin", "absent.bin"}
    assert rows["good.bin"].split()[2] == "ok" and str(folder / "good.bin") in rows["good.bin"]
    assert rows["bad.bin"].split()[2] == "corrupt" and "MD5" in rows["bad.bin"]
    assert rows["absent.bin"].split()[2] == "missing"
    assert "1 ok, 1 corrupt, 1 missing" in captured.out
    assert "Corrupt" in captured.err


def test_verify_succeeds_when_nothing_is_corrupt(tmp_path, capsys, toy_resource) -> None:
    (tmp_path / "toyset").mkdir()
    (tmp_path / "toyset" / "good.bin").write_bytes(toy_resource["good.bin"])
    assert cli.main(["data", "verify", str(tmp_path)]) == 0
    assert "1 ok, 0 corrupt, 2 missing" in capsys.readouterr().out


def test_verify_reads_tinylearn_data_without_a_folder_argument(
    tmp_path, monkeypatch, capsys, toy_resource
) -> None:
    (tmp_path / "toyset").mkdir()
    (tmp_path / "toyset" / "bad.bin").write_bytes(b"truncated")
    monkeypatch.setenv("TINYLEARN_DATA", str(tmp_path))
    assert cli.main(["data", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"data root: {tmp_path}" in out and "truncated: 9 bytes" in out


def test_verify_rejects_a_folder_that_does_not_exist_and_an_unknown_data_set(tmp_path, capsys) -> None:
    assert cli.main(["data", "verify", str(tmp_path / "nowhere")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert cli.main(["data", "verify", str(tmp_path), "--dataset", "imagenet"]) == 2
    assert "unknown data set 'imagenet'" in capsys.readouterr().err


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"the real MNIST files are not at {SHARED_MNIST}")
def test_verify_checks_real_mnist_files_against_the_published_checksums(tmp_path, capsys) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    shutil.copy(SHARED_MNIST / "t10k-labels-idx1-ubyte.gz", folder)
    data = (SHARED_MNIST / "train-labels-idx1-ubyte.gz").read_bytes()
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(data[: len(data) // 2])  # a broken download
    assert cli.main(["data", "verify", str(tmp_path), "--dataset", "mnist"]) == 1
    rows = {line.split()[1]: line.split()[2] for line in capsys.readouterr().out.splitlines()[2:6]}
    assert rows == {
        "train-images-idx3-ubyte.gz": "missing",
        "train-labels-idx1-ubyte.gz": "corrupt",
        "t10k-images-idx3-ubyte.gz": "missing",
        "t10k-labels-idx1-ubyte.gz": "ok",
    }


# --------------------------------------------------------------------------- data download


def test_download_offline_fails_and_says_which_files_to_put_where(tmp_path, capsys) -> None:
    assert cli.main(["data", "download", "mnist", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "network is off" in err
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):  # fmt: skip
        assert str(tmp_path / "mnist" / name) in err
    assert not (tmp_path / "mnist").exists()  # nothing half-written left behind


def test_download_of_files_already_there_checks_them_without_the_network(
    tmp_path, capsys, toy_resource
) -> None:
    (tmp_path / "toyset").mkdir()
    for name, data in toy_resource.items():
        (tmp_path / "toyset" / name).write_bytes(data)
    assert cli.main(["data", "download", "toyset", "--root", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.count("OK") == 3 and str(tmp_path / "toyset" / "good.bin") in out


def test_download_of_an_unknown_data_set_lists_the_known_ones(capsys) -> None:
    assert cli.main(["data", "download", "imagenet"]) == 1
    err = capsys.readouterr().err
    assert "unknown data set 'imagenet'" in err and "mnist" in err
