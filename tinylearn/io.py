"""Saving and loading: tensors in safetensors files, and whole training checkpoints. Never pickle.

``torch.save`` writes Python *pickles*, and loading a pickle can run any code the file asks for: a
downloaded checkpoint is then a program. tinylearn stores tensors in the **safetensors** format
instead (the one Hugging Face uses for model weights): a JSON header plus raw bytes, which can only
ever be read as numbers. The reader and writer are written here, in plain Python and NumPy, and the
files they make are byte for byte the files the official ``safetensors`` package makes (but for the
order of metadata entries, which it keeps in a hash map), so weights move freely between tinylearn
and PyTorch (``safetensors.torch.load_file``)::

    tl.save(model.state_dict(), "mlp.safetensors")          # names -> tensors
    model.load_state_dict(tl.load("mlp.safetensors"))

    tl.save_checkpoint("ckpt.safetensors", model=model, optimizer=opt, scheduler=sched, epoch=3)
    info = tl.load_checkpoint("ckpt.safetensors", model=model, optimizer=opt, scheduler=sched)

The safetensors format
----------------------
A file is three parts, one after another::

    +--------------------+--------------------------------+------------------------------------+
    | N: 8 bytes, an     | header: N bytes of UTF-8 JSON, | data: every tensor's raw bytes,    |
    | unsigned little-   | padded with spaces to a        | back to back                       |
    | endian integer     | multiple of 8                  |                                    |
    +--------------------+--------------------------------+------------------------------------+

The header is one JSON object. Each tensor's name maps to its dtype, its shape and the byte range
``[begin, end)`` of its data, counted from the start of the data part; the optional entry
``"__metadata__"`` holds free-form text (string keys to string values)::

    {"__metadata__": {"epochs": "10"},
     "0.bias":   {"dtype": "F32", "shape": [8],    "data_offsets": [0, 32]},
     "0.weight": {"dtype": "F32", "shape": [8, 4], "data_offsets": [32, 160]}}

Dtypes are short names: ``F64 F32 F16`` (floats), ``I64 I32 I16 I8`` (signed), ``U64 U32 U16 U8``
(unsigned), ``BOOL`` (one byte, 0 or 1), and ``BF16``/``F8_*`` for formats NumPy lacks. The data of a
tensor is its elements in C order (the last index varies fastest), each little-endian: exactly
``array.tobytes()`` on a little-endian machine. A 0-d tensor has shape ``[]`` and one element; an
empty tensor has ``begin == end``.

A reader must not trust the file. This one checks that the header length fits in the file, that
the header is a JSON object, that every dtype is known, that each byte range is exactly as long
as dtype and shape require, and that the ranges tile the data part: in order, without gaps or
overlaps, ending at the end of the file. A truncated, corrupt or foreign file (a pickle, a PNG, an
``.npz``...) raises :class:`SafetensorsError`, a ``ValueError`` that names the file and the problem.

The writer lays tensors out as the reference implementation does, so both give identical bytes:
sorted by dtype (in the order ``U64 I64 F64 F32 U32 I32 BF16 F16 U16 I16 I8 U8 BOOL``, the reverse
of the reference's dtype list) and then by name, ``"__metadata__"`` first in the header, JSON
without spaces and with non-ASCII text as raw UTF-8. Padding the header to a multiple of 8 bytes
lets a reader map the data part straight into aligned arrays. Writes are *atomic*: the bytes go
to a temporary file in the same folder, which is flushed to disk (``fsync``) and then renamed over
the target (``os.replace``: atomic on POSIX file systems, and on Windows' NTFS). A failed save
leaves no half-written file, and an existing file at that path untouched.

Checkpoints
-----------
:func:`save_checkpoint` puts everything needed to resume training into *one* safetensors file,
which any safetensors reader can open. Tensors go in the data part under prefixed names; all the
rest goes into ``__metadata__`` as JSON text (metadata values must be strings)::

    tensors                                   metadata
    model/<state_dict key>                    format = "tinylearn.checkpoint", format_version
    optimizer/state/<i>/<name>  (exp_avg...)  optimizer = the rest of optimizer.state_dict() as
    scheduler/...  (if it holds tensors)                  JSON: param_groups, "step" counters
    rng/tinylearn  (default generator)        scheduler = scheduler.state_dict() as JSON
    rng/numpy      (NumPy's global MT19937)   rng, epoch, step, extra, *_class names
    extra/...      (tensors in ``extra``)

JSON has no tuples, no integer keys, no infinity and no NumPy scalars, which state dicts do hold
(Adam's ``betas``, the optimizer's ``{0: {...}}`` state, ``ReduceLROnPlateau.best = inf``). They are
written as small tagged objects, ``{"__tuple__": [...]}``, ``{"__dict__": [[key, value], ...]}``,
``{"__float__": "inf"}``, ``{"__scalar__": ["float32", 0.5]}``, and a tensor as
``{"__tensor__": "optimizer/state/0/exp_avg"}`` (the name of its entry in the data part;
``"__ndarray__"`` for a NumPy array), so loading gives back exactly the objects that were saved.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import struct
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import backend
from .random import Generator, default_generator
from .tensor import Tensor

if TYPE_CHECKING:
    from .nn.module import Module
    from .optim.lr_scheduler import LRScheduler
    from .optim.optimizer import Optimizer

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "CheckpointError",
    "SafetensorsError",
    "load",
    "load_checkpoint",
    "load_file",
    "load_metadata",
    "load_numpy",
    "save",
    "save_checkpoint",
    "save_file",
]

PathLike = str | os.PathLike

# --------------------------------------------------------------------------- the format's tables

# safetensors dtype name -> the NumPy dtype of its bytes on disk (always little-endian).
_DTYPES: dict[str, np.dtype] = {
    name: np.dtype(code)
    for name, code in [
        ("BOOL", "?"), ("U8", "u1"), ("I8", "i1"), ("I16", "<i2"), ("U16", "<u2"), ("F16", "<f2"),
        ("I32", "<i4"), ("U32", "<u4"), ("F32", "<f4"), ("F64", "<f8"), ("I64", "<i8"), ("U64", "<u8"),
    ]
}  # fmt: skip
# NumPy dtype (native byte order) -> safetensors name, for writing.
_NAMES: dict[np.dtype, str] = {dtype.newbyteorder("="): name for name, dtype in _DTYPES.items()}
# The reference's dtype enum, in its declaration order. The writer sorts tensors by this rank, largest
# first, then by name: we must do the same to write the same bytes.
_RANK: dict[str, int] = {
    name: i
    for i, name in enumerate(
        ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32",
         "F64", "I64", "U64"]
    )
}  # fmt: skip
# Valid safetensors dtypes that NumPy (hence tinylearn) has no type for. BF16 is the exception: it is
# the top half of a float32, so it is read and widened to float32 exactly.
_UNREADABLE = ("F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64")
_MAX_HEADER = 100_000_000  # the reference refuses larger headers too: a bad length, not a big model
_TINYLEARN_DTYPES = {np.dtype(t) for t in ("bool", "u1", "i1", "i2", "f2", "i4", "f4", "f8", "i8")}

# The first bytes of files people mistake for weights, to say what a foreign file probably is.
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"PK\x03\x04", "a zip archive: a NumPy .npz file, or a PyTorch .pt/.pth file from torch.save "
                    "(which holds pickles; tinylearn never unpickles)"),
    (b"\x93NUMPY", "a NumPy .npy file (read it with numpy.load(path, allow_pickle=False))"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (Keras .h5 weights?)"),
    (b"GGUF", "a GGUF model file"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"%PDF", "a PDF document"),
]  # fmt: skip


class SafetensorsError(ValueError):
    """A file that is not a valid safetensors file: truncated, corrupt, or of another format.

    ``path`` is the file and ``reason`` what is wrong with it.
    """

    def __init__(self, path: PathLike | str, reason: str) -> None:
        self.path, self.reason = os.fspath(path), reason
        super().__init__(f"{self.path}: not a valid safetensors file: {reason}")


class CheckpointError(ValueError):
    """A safetensors file that is not a tinylearn checkpoint, or one that does not fit the objects
    it is loaded into (another optimizer or scheduler class, a missing part)."""


# --------------------------------------------------------------------------- writing


def _as_array(name: str, value: Any) -> tuple[str, np.ndarray]:
    """``value`` (a Tensor or NumPy array) as its safetensors dtype name and a C-contiguous
    little-endian array on the host."""
    if isinstance(value, Tensor):
        value = backend.to_device(value.data, backend.CPU)
    elif isinstance(value, np.generic):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"save: the value of {name!r} is a {type(value).__name__}; safetensors stores only tensors "
            "(tinylearn Tensors or NumPy arrays)"
        )
    tag = _NAMES.get(value.dtype.newbyteorder("="))
    if tag is None:
        raise TypeError(
            f"save: {name!r} has dtype {value.dtype}, which safetensors cannot store; use one of "
            + ", ".join(str(d) for d in _NAMES)
        )
    return tag, np.asarray(value, dtype=_DTYPES[tag], order="C")  # not ascontiguousarray: it makes 0-d 1-d


def _prepare(
    tensors: Mapping[str, Any], metadata: Mapping[str, str] | None
) -> tuple[bytes, list[np.ndarray]]:
    """The 8-byte length and padded header of a file holding ``tensors``, and the arrays in file order."""
    if not isinstance(tensors, Mapping):
        hint = " (pass model.state_dict())" if hasattr(tensors, "state_dict") else ""
        raise TypeError(f"save: expected a dict of name -> tensor, got {type(tensors).__name__}{hint}")
    arrays: dict[str, np.ndarray] = {}
    tags: dict[str, str] = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"save: tensor names must be strings, got {name!r} ({type(name).__name__})")
        if name == "__metadata__":
            raise ValueError("save: '__metadata__' is reserved for the metadata; rename that tensor")
        tags[name], arrays[name] = _as_array(name, value)
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise TypeError(f"save: metadata must be a dict of str -> str, got {type(metadata).__name__}")
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(
                    f"save: metadata must map str -> str, got {key!r}: {type(value).__name__}; "
                    "encode other values as text, e.g. with json.dumps"
                )
    order = sorted(arrays, key=lambda n: (-_RANK[tags[n]], n))
    header: dict[str, Any] = {} if metadata is None else {"__metadata__": dict(metadata)}
    offset = 0
    for name in order:
        array = arrays[name]
        header[name] = {
            "dtype": tags[name],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad to a multiple of 8 so that the data part starts aligned
    return struct.pack("<Q", len(text)) + text, [arrays[name] for name in order]


def _write_tensor_bytes(f: IO[bytes], array: np.ndarray) -> None:
    """Write one contiguous little-endian array's bytes (no copy: the file reads the array's buffer)."""
    if array.size:
        f.write(array.reshape(-1).view(np.uint8))


def _atomic_write(path: PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, and rename it to ``path``.

    The rename (``os.replace``) is atomic: readers see the old file or the complete new one, never a
    mix. On any exception, even KeyboardInterrupt, the temporary file is deleted and ``path`` is left
    as it was.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: cannot write {path}: the folder {folder} does not exist")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:  # a fresh, unpredictable name; O_EXCL makes sure we never open someone else's file
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # 0o666 minus the umask: the permissions open() would give
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX: a folder is synced through a descriptor; not on Windows)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_file(
    tensors: Mapping[str, Tensor | np.ndarray], filename: PathLike, metadata: Mapping[str, str] | None = None
) -> None:
    """Write ``tensors`` (name -> Tensor or NumPy array) to ``filename`` in safetensors format, atomically.

    ``metadata`` is optional text stored in the header (str -> str). The official package's name and
    signature (``safetensors.numpy.save_file``); :func:`save` is the same with PyTorch's argument order.
    Tensors on a GPU are copied to the host; the file is the same as the official writer's.
    """
    header, arrays = _prepare(tensors, metadata)

    def write(f: IO[bytes]) -> None:
        f.write(header)
        for array in arrays:
            _write_tensor_bytes(f, array)

    _atomic_write(filename, write)


def save(
    obj: Mapping[str, Tensor | np.ndarray], f: PathLike, metadata: Mapping[str, str] | None = None
) -> None:
    """``tinylearn.save(model.state_dict(), "model.safetensors")``: save a state dict (name -> tensor).

    Unlike ``torch.save`` this stores tensors only, never pickled Python objects, so loading a file
    cannot run code. For a whole training state (optimizer, scheduler, RNG, epoch) use
    :func:`save_checkpoint`. The file is written atomically (see the module doc).
    """
    save_file(obj, f, metadata)


# --------------------------------------------------------------------------- reading


class _Entry(NamedTuple):
    """One tensor's header entry, checked: where its bytes are and how to read them."""

    name: str
    tag: str  # the safetensors dtype name
    dtype: np.dtype  # the NumPy dtype of its bytes on disk
    shape: tuple[int, ...]
    begin: int
    end: int


def _what_is(first: bytes) -> str:
    """A guess at a foreign file's format from its first bytes, as a hint for the error message."""
    for magic, what in _SIGNATURES:
        if first.startswith(magic):
            return f" (the file looks like {what})"
    if first[:1] == b"\x80" and first[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return " (the file looks like a Python pickle, e.g. from torch.save; tinylearn never unpickles)"
    return ""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads`` hook: a repeated key is an error (plain JSON parsing would keep the last one)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice")
        out[key] = value
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_header(f: IO[bytes], path: PathLike) -> tuple[list[_Entry], dict[str, str], int]:
    """Read and check the header: the tensors' entries in file order, the metadata, the data's start."""
    size = os.fstat(f.fileno()).st_size
    first = f.read(16)
    f.seek(0)
    hint = _what_is(first)

    def fail(reason: str) -> SafetensorsError:
        return SafetensorsError(path, reason + hint)

    if size < 8:
        raise fail(
            "the file is empty"
            if size == 0
            else f"the file is only {size} bytes long, too short for the "
            "8-byte header length that starts a safetensors file"
        )
    (n,) = struct.unpack("<Q", f.read(8))
    if n > _MAX_HEADER:
        raise fail(f"its first 8 bytes give a header length of {n} bytes, more than the 100 MB limit")
    if n > size - 8:
        raise fail(
            f"the header length ({n} bytes) is larger than the {size - 8} bytes that follow it: "
            "the file is truncated"
        )
    raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise fail("the header is not UTF-8 text") from None
    except ValueError as exc:
        raise fail(f"the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise fail(f"the header is a JSON {type(header).__name__}, not an object of tensor entries")

    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise fail("'__metadata__' must be an object of string values")

    entries: list[_Entry] = []
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            raise fail(f"the entry of tensor {name!r} is not an object with dtype, shape and data_offsets")
        tag, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if tag == "BF16":
            dtype = np.dtype("<u2")  # read as 16-bit patterns, widened to float32 afterwards
        elif tag in _DTYPES:
            dtype = _DTYPES[tag]
        elif tag in _UNREADABLE:
            raise fail(f"tensor {name!r} has dtype {tag}, which NumPy (and so tinylearn) cannot represent")
        else:
            known = ", ".join([*_DTYPES, "BF16"])
            raise fail(f"tensor {name!r} has the unknown dtype {tag!r} (known: {known})")
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise fail(f"tensor {name!r} has an invalid shape {shape!r} (a list of non-negative integers)")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)):
            raise fail(f"tensor {name!r} has invalid data_offsets {offsets!r} (a list [begin, end])")
        begin, end = offsets
        if not 0 <= begin <= end:
            raise fail(f"tensor {name!r} has data_offsets [{begin}, {end}]: they need 0 <= begin <= end")
        needed = math.prod(shape) * dtype.itemsize
        if end - begin != needed:
            raise fail(
                f"tensor {name!r} ({tag}, shape {shape}) needs {needed} bytes, but its data_offsets "
                f"[{begin}, {end}] span {end - begin}"
            )
        entries.append(_Entry(name, tag, dtype, tuple(shape), begin, end))

    # The byte ranges must tile the data part exactly: sorted, each starts where the one before ended.
    data_size, position = size - 8 - n, 0
    previous: _Entry | None = None
    for entry in sorted(entries, key=lambda e: (e.begin, e.end)):
        if previous is not None and entry.begin < position:
            raise fail(
                f"the data of tensors {previous.name!r} [{previous.begin}, {previous.end}] and "
                f"{entry.name!r} [{entry.begin}, {entry.end}] overlap"
            )
        if entry.begin > position:
            raise fail(f"bytes {position} to {entry.begin} of the data part belong to no tensor")
        if entry.end > data_size:
            raise fail(
                f"tensor {entry.name!r} ends at byte {entry.end} of the data part, but the file holds only "
                f"{data_size} bytes of data: the file is truncated or its data_offsets are out of range"
            )
        position, previous = entry.end, entry
    if position != data_size:
        raise fail(f"{data_size - position} bytes after the last tensor's data belong to no tensor")
    return entries, metadata, 8 + n


def _read_entry(f: IO[bytes], entry: _Entry, start: int, path: PathLike) -> np.ndarray:
    """Read one tensor's bytes straight into a new native-endian array of its shape."""
    try:
        array = np.empty(entry.shape, dtype=entry.dtype)
    except (ValueError, OverflowError) as exc:  # an absurd shape of zero elements, like [0, 10**30]
        raise SafetensorsError(
            path, f"tensor {entry.name!r} has an impossible shape {list(entry.shape)}"
        ) from exc
    if array.size:
        f.seek(start + entry.begin)
        view = memoryview(array.reshape(-1).view(np.uint8))
        got = 0
        while got < len(view):
            chunk = f.readinto(view[got:])
            if not chunk:
                raise SafetensorsError(path, f"the file ended inside the data of tensor {entry.name!r}")
            got += chunk
    if entry.tag == "BF16":  # bfloat16 is float32 with the low 16 bits of the mantissa dropped
        return (array.astype(np.uint32) << 16).view(np.float32)
    if entry.tag == "BOOL" and array.size and array.view(np.uint8).max() > 1:
        raise SafetensorsError(path, f"the BOOL tensor {entry.name!r} holds bytes other than 0 and 1")
    return array.astype(entry.dtype.newbyteorder("="), copy=False)


def _read(filename: PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    with open(filename, "rb") as f:
        entries, metadata, start = _parse_header(f, filename)
        return {e.name: _read_entry(f, e, start, filename) for e in entries}, metadata


def load_numpy(filename: PathLike) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file as NumPy arrays (name -> array), in file order.

    Unlike :func:`load` this also reads dtypes that tinylearn tensors lack (uint16/32/64). ``BF16``
    tensors are widened to float32 (exactly: a bfloat16 is the upper half of a float32).
    """
    return _read(filename)[0]


def load_metadata(filename: PathLike) -> dict[str, str]:
    """The ``__metadata__`` of a safetensors file (``{}`` if it has none), reading only the header."""
    with open(filename, "rb") as f:
        return _parse_header(f, filename)[1]


def _to_tensors(arrays: Mapping[str, np.ndarray], device: Any, filename: PathLike) -> dict[str, Tensor]:
    for name, array in arrays.items():
        if array.dtype not in _TINYLEARN_DTYPES:
            raise SafetensorsError(
                filename,
                f"tensor {name!r} has dtype {array.dtype}, which tinylearn tensors do not support; "
                "read it as a NumPy array with tinylearn.io.load_numpy",
            )
    return {name: Tensor(array, device=device or backend.CPU) for name, array in arrays.items()}


def load_file(filename: PathLike, device: Any = None) -> dict[str, Tensor]:
    """Read a safetensors file into a dict of name -> Tensor, on ``device`` (default: the CPU).

    The official package's name (``safetensors.numpy.load_file``); same as :func:`load`. Raises
    :class:`SafetensorsError` (a ``ValueError``) naming the file for a truncated, corrupt or foreign file.
    """
    return _to_tensors(_read(filename)[0], device, filename)


def load(f: PathLike, device: Any = None) -> dict[str, Tensor]:
    """``model.load_state_dict(tinylearn.load("model.safetensors"))``: read a file written by :func:`save`
    (or by any safetensors writer, e.g. ``safetensors.torch.save_file`` from PyTorch).

    Returns name -> Tensor on ``device`` (default: the CPU), in file order (sorted, not the module's
    order: ``load_state_dict`` matches by name). Nothing is ever unpickled.
    """
    return load_file(f, device)


# --------------------------------------------------------------------------- state dicts as JSON

_TAGS = ("__tensor__", "__ndarray__", "__tuple__", "__dict__", "__float__", "__scalar__")


class _Unencodable(TypeError):
    def __init__(self, path: str, value: Any) -> None:
        self.path = path
        super().__init__(
            f"cannot save {path!r}: a {type(value).__name__} is neither a tensor nor JSON-like data "
            "(None, bool, int, float, str, list, tuple, dict, NumPy scalar)"
        )


class _Encoder:
    """Turns a nested state (dicts, lists, numbers, tensors) into JSON-ready data, setting tensors aside.

    Each tensor goes into ``tensors`` under its path (``"optimizer/state/0/exp_avg"``) and is replaced
    by ``{"__tensor__": path}``. With ``skip=True`` a dict entry that cannot be encoded (a lambda in a
    scheduler) is left out and its path noted in ``skipped``; otherwise it is a ``TypeError``.
    """

    def __init__(self, tensors: dict[str, Any], skip: bool = False) -> None:
        self.tensors, self.skip, self.skipped = tensors, skip, []

    def encode(self, value: Any, path: str) -> Any:
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":  # first: np.float64 is a float
            return {"__scalar__": [value.dtype.name, self.encode(value.item(), path)]}
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}  # 'inf', '-inf', 'nan'
        if isinstance(value, Tensor | np.ndarray):
            name = path
            while name in self.tensors:  # a key containing "/" could collide with a nested path
                name += "~"
            self.tensors[name] = value
            return {"__tensor__" if isinstance(value, Tensor) else "__ndarray__": name}
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, f"{path}/{i}") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, f"{path}/{i}") for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            tagged = len(value) == 1 and next(iter(value)) in _TAGS  # would read back as a tag
            plain = all(isinstance(k, str) for k in value) and not tagged
            items = []
            for key, item in value.items():
                try:
                    items.append((key, self.encode(item, f"{path}/{key}")))
                except _Unencodable as exc:
                    if not self.skip:
                        raise
                    self.skipped.append(exc.path)
            if plain:
                return dict(items)
            return {"__dict__": [[self.encode(k, f"{path}/<key>"), v] for k, v in items]}
        raise _Unencodable(path, value)


def _decode(value: Any, arrays: Mapping[str, np.ndarray], device: Any) -> Any:
    """Undo :class:`_Encoder`: tagged objects become tuples, int-keyed dicts, floats, scalars, tensors."""
    if isinstance(value, list):
        return [_decode(v, arrays, device) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag in ("__tensor__", "__ndarray__"):
            if inner not in arrays:
                raise CheckpointError(f"the checkpoint's metadata names a tensor {inner!r} it does not hold")
            array = arrays[inner]
            return Tensor(array, device=device or backend.CPU) if tag == "__tensor__" else array
        if tag == "__tuple__":
            return tuple(_decode(v, arrays, device) for v in inner)
        if tag == "__dict__":
            return {_decode(k, arrays, device): _decode(v, arrays, device) for k, v in inner}
        if tag == "__float__":
            return float(inner)
        if tag == "__scalar__":
            dtype, item = inner
            return np.dtype(dtype).type(_decode(item, arrays, device))
    return {k: _decode(v, arrays, device) for k, v in value.items()}


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"), ensure_ascii=False)


# --------------------------------------------------------------------------- checkpoints

CHECKPOINT_FORMAT = "tinylearn.checkpoint"
CHECKPOINT_FORMAT_VERSION = 1


def save_checkpoint(
    path: PathLike,
    *,
    model: Module,
    optimizer: Optimizer | None = None,
    scheduler: LRScheduler | None = None,
    epoch: int | None = None,
    step: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Save everything needed to resume training into one safetensors file, atomically.

    Stored: ``model.state_dict()``; ``optimizer.state_dict()`` (per-parameter tensors such as Adam's
    ``exp_avg`` as tensors, the param_groups' hyperparameters and ``step`` counters as JSON);
    ``scheduler.state_dict()`` as JSON; the state of tinylearn's default random generator (which
    shuffles DataLoaders, draws dropout masks and initialises weights) and of NumPy's global
    legacy generator; ``epoch``, ``step``; and ``extra``, a dict of your own (numbers, strings, lists,
    tuples, dicts, tensors or NumPy arrays: the best validation loss, a metric history, the state of a
    DataLoader's own ``Generator``...). The file layout is described in the module doc.

    Scheduler state that is not data, such as the plain function of a ``LambdaLR``, is skipped, as
    PyTorch's ``LambdaLR.state_dict`` skips it: rebuild the scheduler with the same function before
    loading. Anything else that is not data raises ``TypeError`` naming it.

    Resuming is exact when you save between epochs: a DataLoader draws its shuffle order when an
    epoch's iteration starts, so a checkpoint taken mid-epoch cannot restore the rest of that order.
    """
    from . import __version__

    tensors: dict[str, Any] = {}
    meta: dict[str, str] = {
        "format": CHECKPOINT_FORMAT,
        "format_version": str(CHECKPOINT_FORMAT_VERSION),
        "tinylearn_version": __version__,
        "model_class": type(model).__name__,
    }
    for key, value in model.state_dict().items():
        if not isinstance(value, Tensor | np.ndarray):
            raise TypeError(
                f"save_checkpoint: model.state_dict()[{key!r}] is a {type(value).__name__}, not a tensor"
            )
        tensors[f"model/{key}"] = value
    if optimizer is not None:
        meta["optimizer"] = _dumps(_Encoder(tensors).encode(optimizer.state_dict(), "optimizer"))
        meta["optimizer_class"] = type(optimizer).__name__
    if scheduler is not None:
        encoder = _Encoder(tensors, skip=True)
        meta["scheduler"] = _dumps(encoder.encode(scheduler.state_dict(), "scheduler"))
        meta["scheduler_class"] = type(scheduler).__name__
        if encoder.skipped:
            meta["scheduler_skipped"] = _dumps(encoder.skipped)
    tensors["rng/tinylearn"] = default_generator.get_state()
    algorithm, key, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)  # type: ignore[misc]
    tensors["rng/numpy"] = np.asarray(key, dtype=np.int64)  # uint32 words: int64 keeps tl.load able to read
    meta["rng"] = _dumps(
        {"numpy": {"algorithm": algorithm, "pos": int(pos), "has_gauss": int(has_gauss),
                   "cached_gaussian": float(cached_gaussian)}}
    )  # fmt: skip
    encoder = _Encoder(tensors)
    meta["epoch"] = _dumps(encoder.encode(epoch, "epoch"))
    meta["step"] = _dumps(encoder.encode(step, "step"))
    meta["extra"] = _dumps(encoder.encode(None if extra is None else dict(extra), "extra"))
    save_file(tensors, path, meta)


def _check_class(path: PathLike, meta: Mapping[str, str], part: str, obj: Any) -> None:
    saved = meta.get(f"{part}_class")
    if saved is not None and saved != type(obj).__name__:
        raise CheckpointError(
            f"{os.fspath(path)}: the checkpoint's {part} state was saved from a {saved}, "
            f"but it is being loaded into a {type(obj).__name__}"
        )


def load_checkpoint(
    path: PathLike,
    *,
    model: Module,
    optimizer: Optimizer | None = None,
    scheduler: LRScheduler | None = None,
    map_location: Any = None,
    strict: bool = True,
    restore_rng: bool = True,
) -> dict[str, Any]:
    """Restore a checkpoint written by :func:`save_checkpoint` into existing objects, in place.

    Build the model, optimizer and scheduler as for a fresh run (same classes and arguments), then
    call this: it loads the model's state (``strict`` as in ``load_state_dict``: a missing, unexpected
    or wrongly shaped key is nn's ``RuntimeError``), the optimizer's and the scheduler's if given (their
    state is ignored when you pass none: weights only, for evaluation), and, with ``restore_rng``, the
    random generators, so the resumed run draws the same shuffles and dropout masks as an
    uninterrupted one. ``map_location`` is the device for the loaded tensors (default: the CPU).

    Returns ``{"epoch": ..., "step": ..., "extra": ...}`` as saved. Raises :class:`SafetensorsError`
    for a file that is not valid safetensors and :class:`CheckpointError` for one that is not a
    tinylearn checkpoint or lacks a part you ask for.
    """
    arrays, meta = _read(path)
    where = os.fspath(path)
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{where}: not a tinylearn checkpoint (its metadata has no format={CHECKPOINT_FORMAT!r}); "
            "a plain state dict loads with model.load_state_dict(tinylearn.load(path))"
        )
    try:
        version = int(meta.get("format_version", "0"))
    except ValueError:
        raise CheckpointError(f"{where}: invalid format_version {meta['format_version']!r}") from None
    if version > CHECKPOINT_FORMAT_VERSION:
        raise CheckpointError(
            f"{where}: checkpoint format version {version} is newer than this tinylearn reads "
            f"({CHECKPOINT_FORMAT_VERSION}); upgrade tinylearn"
        )
    for part, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None:
            if part not in meta:
                raise CheckpointError(f"{where}: the checkpoint holds no {part} state")
            _check_class(path, meta, part, obj)

    # Decode everything before touching any object, so that a bad file changes nothing.
    model_state = {
        key[len("model/") :]: Tensor(array, device=map_location or backend.CPU)
        for key, array in arrays.items()
        if key.startswith("model/")
    }
    optimizer_state = scheduler_state = legacy_rng = None
    try:
        if optimizer is not None:
            optimizer_state = _decode(json.loads(meta["optimizer"]), arrays, map_location)
        if scheduler is not None:
            scheduler_state = _decode(json.loads(meta["scheduler"]), arrays, map_location)
        info = {
            k: _decode(json.loads(meta.get(k, "null")), arrays, map_location)
            for k in ("epoch", "step", "extra")
        }
        if restore_rng:
            legacy = json.loads(meta["rng"])["numpy"]
            legacy_rng = (legacy["algorithm"], arrays["rng/numpy"].astype(np.uint32), legacy["pos"],
                          legacy["has_gauss"], legacy["cached_gaussian"])  # fmt: skip
            tinylearn_rng = arrays["rng/tinylearn"]
            Generator().set_state(tinylearn_rng)  # a ValueError now, for a corrupt state, rather than later
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(
            f"{where}: the checkpoint's metadata is corrupt or incomplete ({exc!r})"
        ) from exc

    model.load_state_dict(model_state, strict=strict)
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    if scheduler is not None:
        scheduler.load_state_dict(scheduler_state)
    if legacy_rng is not None:
        default_generator.set_state(tinylearn_rng)
        np.random.set_state(legacy_rng)
    return info
