"""``Embedding``: a lookup table of learned vectors, one row per token id."""



from __future__ import annotations

from typing import Any

from ...autograd import no_grad
from ...tensor import Tensor, empty
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Integer ids of any shape (*) → vectors (*, embedding_dim), rows of ``weight``
    (num_embeddings, embedding_dim), initialised N(0, 1) as in PyTorch.

    ``padding_idx`` marks the row of a padding token: it starts at zero and receives no gradient,
    so it stays fixed during training. Looking the table up is the same as multiplying a one-hot
    vector by ``weight``, without building the one-hot vector.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        _weight: Tensor | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be within num_embeddings ({num_embeddings}), "
                    f"got {padding_idx}"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        if _weight is None:
            self.weight = Parameter(empty(num_embeddings, embedding_dim, device=device, dtype=dtype))
            self.reset_parameters()
        elif tuple(_weight.shape) != (num_embeddings, embedding_dim):
            raise ValueError(
                f"Embedding: _weight of shape {tuple(_weight.shape)} does not match "
                f"({num_embeddings}, {embedding_dim})"
            )
        else:
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(
        cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding whose weight is the 2-D ``embeddings`` (sharing its memory, as PyTorch);
        frozen (no gradient) by default."""
        if embeddings.ndim != 2:
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be 2-D, got shape {tuple(embeddings.shape)}"
            )
        module = cls(*embeddings.shape, padding_idx=padding_idx, _weight=embeddings.detach())
        module.weight.requires_grad_(not freeze)
        return module

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        )
