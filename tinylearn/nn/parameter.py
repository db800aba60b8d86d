"""``Parameter``: a tensor that a :class:`~tinylearn.nn.Module` learns.

A Parameter is an ordinary :class:`~tinylearn.Tensor` with two differences: it asks for its
gradient by default (``requires_grad=True``), and assigning one to a module attribute
(``self.weight = Parameter(...)``) registers it, so that ``module.parameters()`` finds it for
the optimizer and ``module.state_dict()`` saves it.
"""

from __future__ import annotations

from ..tensor import Tensor, empty

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A leaf tensor that a module learns: ``Parameter(tl.zeros(3))``.

    ``data`` is a Tensor (whose memory the Parameter shares, as in PyTorch), an array or nested
    lists; ``None`` gives an empty tensor. Results of ops on a Parameter are plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        source = empty(0) if data is None else data if isinstance(data, Tensor) else Tensor(data)
        self._init(source.data)
        self._version = source._version  # same memory, so in-place changes are seen by both
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
