"""Tiny Shakespeare: the char-rnn corpus, for character-level language models.

One plain-text file, ``input.txt`` (1,115,394 ASCII characters, 65 distinct), from Andrej
Karpathy's char-rnn. The first 90% is the training text, the rest the validation text (as in
nanoGPT). Samples are windows of ``block_size`` character ids and the same window shifted by one:
the model reads ``x`` and learns to predict each next character ``y``.

    ds = TinyShakespeare(block_size=64)
    x, y = ds[0]                 # int64 arrays (64,), y[t] = x[t + 1]
    ds.decode(x)                 # 'First Citizen:\\nBefore we proceed any further, hear me speak...'
"""

from __future__ import annotations

import os

import numpy as np

from ..tensor import Tensor, as_tensor
from .dataset import Dataset, _check_index
from .files import CorruptFileError, fetch, resource

__all__ = ["TinyShakespeare"]


class TinyShakespeare(Dataset):
    """Windows of character ids from Tiny Shakespeare.

    Args:
        root: the data root; ``input.txt`` is looked for in ``<root>/tinyshakespeare/`` and ``<root>/``.
        train: the first ``split`` of the text (True) or the rest.
        download: fetch the file (SHA-256-checked) when it is missing or damaged.
        block_size: the length ``T`` of each sample.
        split: the fraction of the text used for training.
        progress: show a progress bar while downloading.

    Attributes: ``text`` (this split's text), ``vocab`` (the sorted characters of the whole
    corpus), ``stoi``/``itos`` (character <-> id), ``data`` (this split as int64 ids).
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        *,
        download: bool = True,
        block_size: int = 64,
        split: float = 0.9,
        progress: bool = True,
    ) -> None:
        if block_size < 1:
            raise ValueError(f"TinyShakespeare: block_size must be positive, got {block_size}")
        res = resource("tinyshakespeare")
        path = fetch(res, ["input.txt"], root, download=download, progress=progress)["input.txt"]
        try:
            corpus = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptFileError(f"{path}: not UTF-8 text ({exc})") from exc
        self.vocab = sorted(set(corpus))
        self.stoi = {ch: i for i, ch in enumerate(self.vocab)}
        self.itos = dict(enumerate(self.vocab))
        cut = int(len(corpus) * split)
        self.train, self.block_size = train, block_size
        self.text = corpus[:cut] if train else corpus[cut:]
        self.data = self.encode(self.text)
        if len(self.data) <= block_size:
            raise ValueError(
                f"TinyShakespeare: the split has {len(self.data)} characters, too few for "
                f"block_size={block_size}"
            )

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """Character ids (int64) of ``text``; characters outside the vocabulary are an error."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        known = np.frombuffer("".join(self.vocab).encode("utf-32-le"), dtype=np.uint32)  # sorted
        ids = np.minimum(np.searchsorted(known, codes), len(known) - 1)
        bad = known[ids] != codes
        if bad.any():
            raise KeyError(f"encode: {chr(codes[bad][0])!r} is not in the vocabulary")
        return ids.astype(np.int64)

    def decode(self, ids: np.ndarray | Tensor | list[int]) -> str:
        """The text of a sequence of character ids."""
        return "".join(self.itos[int(i)] for i in np.asarray(ids).reshape(-1))

    def __len__(self) -> int:
        return len(self.data) - self.block_size

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        i = _check_index(index, len(self), "TinyShakespeare")
        return self.data[i : i + self.block_size], self.data[i + 1 : i + 1 + self.block_size]

    def _batch(self, indices: np.ndarray) -> list[Tensor]:
        window = np.asarray(indices)[:, None] + np.arange(self.block_size)
        return [as_tensor(self.data[window]), as_tensor(self.data[window + 1])]

    def __repr__(self) -> str:
        return (
            f"TinyShakespeare({'train' if self.train else 'validation'}: {len(self.text):,} characters, "
            f"vocab_size={self.vocab_size}, block_size={self.block_size})"
        )
