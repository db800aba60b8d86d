"""Batch normalisation as one Function: the fused fast path of ``F.batch_norm``.

Per channel c (dim 1) of x (N, C, *), with μ and σ² the channel's mean and biased variance over
its M = N·∏* values and ŷ = (x − μ)/√(σ² + eps):

    y = ŷ·γ + β

Written as a chain of mean, subtract, square, ... it costs a dozen passes over x forward and
twice that backward; here it is two passes for the statistics (:func:`kernels.channel_stats`),
one for y, and two for the whole backward, whose closed form is

    ∂β = Σ g        ∂γ = Σ g·ŷ        ∂x = γ/√(σ² + eps) · (g − Σg/M − ŷ·Σ(g·ŷ)/M)

(in training, where μ and σ² depend on x; with running statistics only the first term stays).
That fused backward runs when no graph is being built. Under ``create_graph=True`` the same
formula is written in Tensor ops on x, γ and g, so it can be differentiated again.
"""

from __future__ import annotations

from .. import kernels
from ..autograd import Function, is_grad_enabled, no_grad
from ..backend import get_array_module
from ..tensor import Tensor

__all__ = ["BatchNorm"]


def _lead(x):
    """x (N, C, *) as (N, C, L)."""
    return x.reshape(x.shape[0], x.shape[1], -1)


class BatchNorm(Function):
    """y = (x − mean)/√(var + eps)·weight + bias per channel of x (N, C, *). Inputs: x, then
    ``weight`` if ``affine[0]``, then ``bias`` if ``affine[1]``. ``mean`` and ``var`` are float64
    per-channel arrays computed before the call: the batch's own statistics when ``training``
    (they depend on x, and so does the gradient), else the running ones (constants)."""

    def forward(self, x, *params):
        xp = get_array_module(x)
        weight, bias = (None if p is None else p.reshape(-1) for p in self._split(params))
        self.invstd = 1.0 / xp.sqrt(self.var + self.eps)
        scale = self.invstd if weight is None else self.invstd * weight
        shift = -self.mean * scale if bias is None else bias - self.mean * scale
        return kernels.channel_affine(_lead(x), scale, shift).reshape(x.shape)

    def _split(self, params):
        params = list(params)
        weight = params.pop(0) if self.affine[0] else None
        bias = params.pop(0) if self.affine[1] else None
        return weight, bias

    def backward(self, g):
        if is_grad_enabled():
            return self._differentiable_backward(g)
        x = self.saved(0)
        need_x, *need_params = self.needs_input_grad
        sum_g, sum_gc = kernels.channel_grad_sums(_lead(g.data), _lead(x.data), self.mean)
        gx = None
        if need_x:
            k = self.invstd if not self.affine[0] else self.invstd * self.saved(1).data.reshape(-1)
            if self.training:  # μ and σ² move with x: two more terms
                count = x.numel() // x.shape[1]
                b = -k * self.invstd**2 * sum_gc / count
                d = -k * sum_g / count - b * self.mean
                gx = kernels.channel_grad_input(_lead(g.data), _lead(x.data), k, b, d)
            else:
                gx = kernels.channel_affine(_lead(g.data), k, 0 * k)
            gx = Tensor._make(gx.reshape(x.shape))
        # ∂γ = Σ g·ŷ, ∂β = Σ g, for whichever of the two are inputs
        sums = [s for s, present in zip((sum_gc * self.invstd, sum_g), self.affine, strict=True) if present]
        params = self.inputs[1:]
        return (gx,) + tuple(
            Tensor._make(s.astype(p.dtype).reshape(p.shape)) if need else None
            for s, p, need in zip(sums, params, need_params, strict=True)
        )

    def _differentiable_backward(self, g):
        """The backward in Tensor ops (for ``create_graph=True``): the closed form above, with μ
        and σ² recomputed from x as Tensors in training, so second derivatives see them move."""
        x = self.saved(0)
        weight, _ = self._split(self.saved_tensors[1:])
        dims = (0, *range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        xp = get_array_module(x.data)
        if self.training:
            centered = x - x.mean(dims, keepdim=True)
            invstd = ((centered * centered).mean(dims, keepdim=True) + self.eps).rsqrt()
        else:
            centered = x - Tensor._make(xp.asarray(self.mean, dtype=x.dtype).reshape(shape))
            invstd = Tensor._make(xp.asarray(self.invstd, dtype=x.dtype).reshape(shape))
        normalized = centered * invstd
        k = invstd if weight is None else invstd * weight.reshape(shape)
        if self.training:
            gx = k * (g - g.mean(dims, keepdim=True) - normalized * (g * normalized).mean(dims, keepdim=True))
        else:
            gx = g * k
        sums = [s for s, present in zip((g * normalized, g), self.affine, strict=True) if present]
        need_x, *need_params = self.needs_input_grad
        return (gx if need_x else None,) + tuple(
            s.sum(dims).reshape(p.shape) if need else None
            for s, p, need in zip(sums, self.inputs[1:], need_params, strict=True)
        )


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
) -> Tensor:
    """The fused batch norm of checked arguments (``tinylearn.nn.functional.batch_norm`` checks
    them and documents the semantics): statistics, the running-statistics update, then one
    :class:`BatchNorm` node."""
    from . import promote_tensors

    if not input.is_floating_point():
        raise RuntimeError(f"batch_norm: expected a floating point input, got {input.dtype}")
    x_tensor, *affine = promote_tensors("batch_norm", input, *[t for t in (weight, bias) if t is not None])
    channels = x_tensor.shape[1]
    x = x_tensor.data
    xp = get_array_module(x)
    if training:
        mean, var = kernels.channel_stats(_lead(x))
        n = input.numel() // channels
        with no_grad():
            for running, batch in ((running_mean, mean), (running_var, var * (n / (n - 1)))):
                if running is not None:
                    update = Tensor._make((batch * momentum).astype(running.dtype))
                    running.copy_(running * (1 - momentum) + update)
    else:
        mean, var = (
            xp.asarray(running_mean.data, dtype="float64"),
            xp.asarray(running_var.data, dtype="float64"),
        )
    return BatchNorm.apply(
        x_tensor,
        *affine,
        mean=mean,
        var=var,
        eps=eps,
        training=training,
        affine=(weight is not None, bias is not None),
    )
