"""Gradient clipping (curriculum 1.7.3): keep one bad batch from throwing the parameters far away.

* by norm: if the gradients of all parameters together, seen as one long vector, are longer than
  ``max_norm``, scale them all down by the same factor (the direction is kept);
* by value: clamp every gradient coordinate to ``[-clip_value, clip_value]`` (the direction changes).

Both change ``p.grad`` in place, between ``backward()`` and ``optimizer.step()``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    r"""Scale all gradients by ``min(1, max_norm / (‖g‖ + 1e-6))``, where ‖g‖ is the ``norm_type`` norm of
    all gradients together (``float("inf")``: the largest absolute value). Returns ‖g‖, measured before
    clipping, as a 0-dim tensor (a plain ``tensor(0.)`` when no parameter has a gradient).

    A non-finite norm (an inf or NaN gradient) scales the gradients to NaN or 0, unless
    ``error_if_nonfinite=True``, which raises instead.
    """
    grads = _grads(parameters)
    if not grads:
        return Tensor(0.0)
    max_norm, norm_type = float(max_norm), float(norm_type)
    xp = get_array_module(grads[0].data)
    # float16 gradients are measured in float32: their sum of squares overflows float16 at 256².
    norms = [
        xp.linalg.norm(g.data.ravel().astype(xp.result_type(g.dtype, xp.float32), copy=False), norm_type)
        for g in grads
    ]
    total = xp.linalg.norm(xp.stack(norms), norm_type)  # the norm of the norms is the norm of everything
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
            "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        with np.errstate(invalid="ignore"):  # an infinite norm gives coef = 0, and inf·0 = NaN, as in PyTorch
            g.data *= coef.astype(g.dtype)
        g._version[0] += 1
    return Tensor._make(xp.asarray(total))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient coordinate to ``[-clip_value, clip_value]``, in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        get_array_module(g.data).clip(g.data, -clip_value, clip_value, out=g.data)
        g._version[0] += 1
