"""Data files on disk: where they are looked for, how they are checked, downloaded and verified.

Where: a data set ``name`` lives in ``<root>/<name>/`` (e.g. ``<root>/mnist/train-images-idx3-ubyte.gz``),
where ``<root>`` is the first of: the ``root=`` argument, ``$TINYLEARN_DATA``, ``~/.cache/tinylearn``.
Files directly in ``<root>`` and torchvision's layout (``<root>/MNIST/raw/``) are found as well.

Checked: every official file is compared with its published checksum (MD5, and SHA-256 where one
is known) before it is used; a wrong or truncated file is an error that names it, and is fetched
again when downloading is allowed.

Downloaded: from a list of mirrors in turn, with a tqdm progress bar (``progress=False`` or the
``TQDM_DISABLE`` environment variable turn it off), into a temporary file next to the target that
replaces it (``os.replace``) only once the checksum matched, so an interrupted download never leaves
a half-written file under the real name. Offline, the error lists the files to put where.

    tinylearn.data.download("mnist")            # fetch and check a data set's files
    for check in tinylearn.data.verify(): print(check)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "RESOURCES",
    "CorruptFileError",
    "DataNotFoundError",
    "FileCheck",
    "RemoteFile",
    "Resource",
    "check_file",
    "data_root",
    "download",
    "download_file",
    "fetch",
    "file_digests",
    "locate",
    "resource",
    "verify",
]

CHUNK = 1 << 20
TIMEOUT = 10.0  # seconds per connection attempt: offline, a download fails fast


class DataNotFoundError(FileNotFoundError):
    """A data file is neither on disk nor downloadable; the message says which files to put where."""


class CorruptFileError(ValueError):
    """A data file exists but is damaged: wrong checksum, truncated or malformed. The message names it."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a data set, with its published checksums (hex digests) and size in bytes."""

    name: str
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None
    downloadable: bool = True  # False: known, verifiable, but only placed by hand (repacked files)
    note: str = ""


@dataclass(frozen=True)
class Resource:
    """A data set's files, the folder they go in, and the base URLs they can be fetched from."""

    name: str
    folder: str
    files: tuple[RemoteFile, ...]
    mirrors: tuple[str, ...] = ()
    layouts: tuple[str, ...] = ()  # other folders (relative to the root) to look in
    aliases: tuple[str, ...] = ()  # other names ``resource()`` accepts

    def file(self, name: str) -> RemoteFile:
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no file {name!r}")


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # torchvision's primary mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",  # the original site
)
_CIFAR_NPZ_NOTE = "repacked from public copies (see shared/data/cifar10/README.md); not downloadable"

RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in [
        # MD5: the values published with the data (checked by torchvision); SHA-256 and sizes computed
        # from the official files and confirmed to match those MD5s.
        Resource(
            "mnist",
            "mnist",
            (
                RemoteFile(
                    "train-images-idx3-ubyte.gz",
                    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                    9912422,
                ),
                RemoteFile(
                    "train-labels-idx1-ubyte.gz",
                    "d53e105ee54ea40749a09fcbcd1e9432",
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    28881,
                ),
                RemoteFile(
                    "t10k-images-idx3-ubyte.gz",
                    "9fb629c4189551a2d022fa330f9573f3",
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    1648877,
                ),
                RemoteFile(
                    "t10k-labels-idx1-ubyte.gz",
                    "ec29112dd5afa0611ce80d1b7f02629c",
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                    4542,
                ),
            ),
            _MNIST_MIRRORS,
            ("MNIST/raw",),
        ),
        # MD5 and sizes as published in the Fashion-MNIST README.
        Resource(
            "fashion-mnist",
            "fashion-mnist",
            (
                RemoteFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", size=26421880),
                RemoteFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", size=29515),
                RemoteFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", size=4422102),
                RemoteFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", size=5148),
            ),
            (
                "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
            ),
            ("FashionMNIST/raw",),
            ("fashionmnist", "fashion_mnist"),
        ),
        # MD5 as published on the CIFAR page for the binary version ("suitable for C programs").
        Resource(
            "cifar10",
            "cifar10",
            (
                RemoteFile("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530", size=170052171),
                RemoteFile(
                    "cifar10_test_jpeg.npz",
                    "1266802f3d627e52ed83a3e1e4cec1ef",
                    "95b40e8397729628e4e42df2e14a8359483f836abf4708bb7af4fd832fabc734",
                    28503045,
                    downloadable=False,
                    note=_CIFAR_NPZ_NOTE,
                ),
                RemoteFile(
                    "cifar10_train_jpeg_10k.npz",
                    "9a6675c0060b0f1879a39e3ee9a4ee86",
                    "1036467d1a4bb7e9938dc1a8b1f634921e2909fc535bf4fa4b07359abcc02665",
                    28485803,
                    downloadable=False,
                    note=_CIFAR_NPZ_NOTE,
                ),
                RemoteFile(
                    "cifar10_exact_subset.npz",
                    "a59fe5c294b03710a53f876138038a11",
                    "2f71595390cae13e20fdd3e6ce5406d92fee4102dc7cb4ff21c344ba745e1042",
                    14165285,
                    downloadable=False,
                    note=_CIFAR_NPZ_NOTE,
                ),
            ),
            ("https://www.cs.toronto.edu/~kriz/",),
            ("cifar-10",),
            ("cifar-10", "cifar"),
        ),
        # No checksum is published; this SHA-256 is the one public projects pin for karpathy's file.
        Resource(
            "tinyshakespeare",
            "tinyshakespeare",
            (
                RemoteFile(
                    "input.txt",
                    "6fb458f1232090904fb40fe944165e91",
                    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                    1115394,
                ),
            ),
            ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/",),
            (),
            ("tiny-shakespeare", "tiny_shakespeare", "shakespeare"),
        ),
    ]
}


def resource(name: str) -> Resource:
    """The :class:`Resource` called ``name`` (case-insensitive; ``"fashion_mnist"`` etc. work too)."""
    key = name.lower()
    for r in RESOURCES.values():
        if key == r.name or key in r.aliases:
            return r
    known = ", ".join(RESOURCES)
    raise ValueError(
        f"unknown data set {name!r}; known: {known} (FontDigits is generated, nothing to download)"
    )


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data folder: ``root`` if given, else ``$TINYLEARN_DATA``, else ``~/.cache/tinylearn``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("TINYLEARN_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tinylearn"


def _candidates(res: Resource, filename: str, root: Path) -> list[Path]:
    folders = [root / res.folder, *(root / layout for layout in res.layouts), root]
    return [folder / filename for folder in folders]


def locate(res: Resource, filename: str, root: str | os.PathLike | None = None) -> Path | None:
    """Where ``filename`` of ``res`` is under the data root, or None."""
    return next((p for p in _candidates(res, filename, data_root(root)) if p.is_file()), None)


def file_digests(path: Path) -> tuple[str, str]:
    """The MD5 and SHA-256 hex digests of a file, read once."""
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            md5.update(chunk)
            sha.update(chunk)
    return md5.hexdigest(), sha.hexdigest()


def _problem(path: Path, spec: RemoteFile) -> str | None:
    """Why ``path`` is not ``spec`` (size or checksum), or None if it matches."""
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        kind = "truncated" if size < spec.size else "too long"
        return f"{kind}: {size:,} bytes, expected {spec.size:,}"
    if spec.md5 is None and spec.sha256 is None:
        return None
    md5, sha = file_digests(path)
    if spec.md5 is not None and md5 != spec.md5:
        return f"MD5 {md5} does not match the published {spec.md5}"
    if spec.sha256 is not None and sha != spec.sha256:
        return f"SHA-256 {sha} does not match the published {spec.sha256}"
    return None


def check_file(path: Path, spec: RemoteFile) -> None:
    """Raise :class:`CorruptFileError` naming ``path`` if its size or checksum is wrong."""
    problem = _problem(path, spec)
    if problem:
        raise _corrupt(path, spec, problem)


def _corrupt(path: Path, spec: RemoteFile, problem: str) -> CorruptFileError:
    remedy = "download it again" if spec.downloadable else "put a good copy there"
    return CorruptFileError(f"{path} is corrupt or incomplete ({problem}). Delete it and {remedy}.")


def progress_enabled(progress: bool = True) -> bool:
    """False when ``progress`` is False or ``$TQDM_DISABLE`` is set to anything but 0/false."""
    return progress and os.environ.get("TQDM_DISABLE", "").lower() in ("", "0", "false", "no")


def _open_url(url: str, timeout: float):
    """``urllib.request.urlopen`` (a seam the tests replace)."""
    import urllib.request  # imported when needed: it pulls in http and ssl, slow to import

    request = urllib.request.Request(url, headers={"User-Agent": "tinylearn"})
    return urllib.request.urlopen(request, timeout=timeout)


def download_file(
    urls: Iterable[str], dest: Path, spec: RemoteFile, progress: bool = True, timeout: float = TIMEOUT
) -> Path:
    """Fetch ``spec`` from the first URL that works into ``dest``, checked and written atomically.

    The bytes go to a temporary file in ``dest``'s folder; only when their checksum matches does
    ``os.replace`` give it the real name. On any failure the temporary file is removed. Raises
    ``OSError`` with each URL's reason when no URL gives the right file.
    """
    from tqdm import tqdm

    created = not dest.parent.exists()
    dest.parent.mkdir(parents=True, exist_ok=True)
    reasons = []
    for url in urls:
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, _open_url(url, timeout) as response:
                total = int(response.headers.get("Content-Length") or 0) or spec.size
                with tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=dest.name,
                    disable=not progress_enabled(progress),
                    leave=False,
                ) as bar:
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        bar.update(len(chunk))
            problem = _problem(tmp, spec)
            if problem:
                raise CorruptFileError(f"downloaded file is wrong ({problem})")
            os.replace(tmp, dest)
            return dest
        except (OSError, CorruptFileError) as exc:  # URLError and timeouts are OSErrors
            reasons.append(f"{url}: {getattr(exc, 'reason', None) or exc}")
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    if created:  # leave no empty folder behind
        with contextlib.suppress(OSError):
            dest.parent.rmdir()
    raise OSError(f"no mirror gave {dest.name}:\n  " + "\n  ".join(reasons))


def _offline_message(
    res: Resource, missing: list[tuple[RemoteFile, Path, str]], folder: Path, reason: str
) -> str:
    lines = [
        f"{res.name}: {len(missing)} file(s) needed in {folder}/ are missing or damaged, and {reason}",
        f"Put these files there (or point root= or $TINYLEARN_DATA at a folder holding {res.folder}/):",
    ]
    for spec, _, why in missing:
        source = f"from {res.mirrors[0]}{spec.name}" if spec.downloadable and res.mirrors else spec.note
        lines.append(f"  {folder / spec.name}    ({why}; md5 {spec.md5}; {source})")
    return "\n".join(lines)


def fetch(
    res: Resource,
    filenames: Iterable[str],
    root: str | os.PathLike | None = None,
    download: bool = True,
    progress: bool = True,
) -> dict[str, Path]:
    """Paths of ``filenames`` of ``res``: found and checked, or downloaded when ``download``.

    A damaged file raises :class:`CorruptFileError` (with ``download=True`` it is fetched again
    instead). A missing file that can't be downloaded raises :class:`DataNotFoundError` listing
    every missing file and the folder they belong in.
    """
    base = data_root(root)
    folder = base / res.folder
    found: dict[str, Path] = {}
    missing: list[tuple[RemoteFile, Path, str]] = []  # (file, where it goes, why it is needed)
    for name in filenames:
        spec = res.file(name)
        path = locate(res, name, base)
        if path is not None:
            problem = _problem(path, spec)
            if problem is None:
                found[name] = path
                continue
            if not download or not spec.downloadable:
                raise _corrupt(path, spec, problem)
            missing.append((spec, path, f"damaged: {problem}"))  # downloaded again, in place
        else:
            missing.append((spec, folder / name, "missing"))
    if missing and not download:
        raise DataNotFoundError(_offline_message(res, missing, folder, "download=False."))
    for i, (spec, dest, _) in enumerate(missing):
        try:
            if not spec.downloadable:
                raise OSError(f"{spec.name} can't be downloaded: {spec.note}")
            found[spec.name] = download_file([m + spec.name for m in res.mirrors], dest, spec, progress)
        except OSError as exc:
            raise DataNotFoundError(
                _offline_message(res, missing[i:], folder, f"downloading failed: {exc}")
            ) from exc
    return found


def download(name: str, root: str | os.PathLike | None = None, progress: bool = True) -> list[Path]:
    """Download (or find and check) every downloadable file of the data set ``name``.

    Returns their paths. ``tinylearn data download NAME`` calls this.
    """
    res = resource(name)
    paths = fetch(res, [f.name for f in res.files if f.downloadable], root, download=True, progress=progress)
    return list(paths.values())


@dataclass(frozen=True)
class FileCheck:
    """The state of one known file under a data root: ``status`` is ok, corrupt or missing."""

    dataset: str
    name: str
    path: Path | None
    status: str
    detail: str = ""

    def __str__(self) -> str:
        where = str(self.path) if self.path else f"{self.dataset}/{self.name}"
        return f"{self.status.upper():8s} {where}" + (f"  ({self.detail})" if self.detail else "")


def verify(root: str | os.PathLike | None = None, names: Iterable[str] | None = None) -> list[FileCheck]:
    """Check every known file of the data sets ``names`` (default: all) found under the data root.

    Each :class:`FileCheck` says ``ok`` (size and checksums match), ``corrupt`` (with the reason)
    or ``missing``. ``tinylearn data verify [DIR]`` prints them.
    """
    base = data_root(root)
    checks = []
    for res in (resource(n) for n in names) if names is not None else RESOURCES.values():
        for spec in res.files:
            path = locate(res, spec.name, base)
            if path is None:
                checks.append(FileCheck(res.name, spec.name, None, "missing"))
                continue
            problem = _problem(path, spec)
            detail = problem or ("md5 " + spec.md5 if spec.md5 else "")
            checks.append(FileCheck(res.name, spec.name, path, "corrupt" if problem else "ok", detail))
    return checks
