"""Cross-entropy of logits and class indices as one Function: the classifier's loss in two passes.

``nn.functional.cross_entropy`` written with the library's ops (``log_softmax``, ``gather``, a
mask for ``ignore_index``, a weighted mean) records about twenty nodes; for the common case, a
batch of logits (N, C) with integer targets (N,), no class weights and no label smoothing, this
Function does the same arithmetic in one node. With p = softmax(xᵢ) and K the positions whose
target is not ``ignore_index``::

    ℓ = −Σ_{i∈K} log pᵢ[yᵢ]  (÷ |K| for the mean)        ∂ℓ/∂xᵢ = (pᵢ − onehot(yᵢ)) (÷ |K|)

and 0 for ignored positions. The backward reuses the forward's exponentials. Run with
``create_graph`` it is written with Tensor ops instead (softmax, a product), so the gradient
can be differentiated again.
"""

from __future__ import annotations

from ..autograd import Function, is_grad_enabled
from ..backend import get_array_module
from ..tensor import Tensor

__all__ = ["CrossEntropy"]


class CrossEntropy(Function):
    """ℓ = the mean (``reduction="mean"``) or sum of −log softmax(xᵢ)[yᵢ] over the positions whose
    target is not ``ignore_index``; inputs: logits x (N, C), int targets (N,)."""

    def forward(self, x, target):
        xp = get_array_module(x)
        n, classes = x.shape
        keep = target != self.ignore_index
        safe = xp.where(keep, target, 0)
        bad = (safe < 0) | (safe >= classes)
        if bad.any():
            raise IndexError(
                f"cross_entropy: target {int(safe[bad][0])} is out of bounds for {classes} classes "
                f"(valid targets are 0..{classes - 1}, or ignore_index={self.ignore_index})"
            )
        shifted = x - x.max(axis=1, keepdims=True)  # as LogSoftmax: stable for any logits
        exp = xp.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        rows = xp.arange(n)
        nll = xp.log(total[:, 0]) - shifted[rows, safe]  # −log pᵢ[yᵢ]
        count = int(keep.sum())
        self.exp, self.total, self.rows, self.safe, self.keep = exp, total, rows, safe, keep  # p = exp/total
        self.scale = 1.0 if self.reduction == "sum" else (1.0 / count if count else float("nan"))
        loss = (nll * keep).sum()
        if self.reduction == "mean":  # NaN when every target is ignored, as PyTorch
            loss = loss / x.dtype.type(count) if count else x.dtype.type("nan")
        return xp.asarray(loss, dtype=x.dtype)

    def backward(self, g):
        keep = self.keep.astype(g.dtype) * g.dtype.type(self.scale)  # (N,): 1/|K| or 1, 0 if ignored
        if is_grad_enabled():  # create_graph: Tensor ops, differentiable again
            x = self.saved(0)
            onehot = get_array_module(x.data).zeros(x.shape, x.dtype)
            onehot[self.rows, self.safe] = 1
            return (x.softmax(1) - Tensor._make(onehot)) * Tensor._make(keep[:, None]) * g, None
        grad = self.exp / self.total  # the probabilities, made only when a gradient is asked for
        grad[self.rows, self.safe] -= 1
        grad *= keep[:, None] * g.data
        return Tensor._make(grad), None
