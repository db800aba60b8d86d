"""Elementwise primitives: arithmetic with broadcasting, and the unary math functions.

Each op is a :class:`~tinylearn.autograd.Function`: ``forward`` on arrays, ``backward`` in
Tensor ops (so it can be differentiated again). Binary ops broadcast their inputs; their
backward hands each input the gradient summed back to its own shape with ``sum_to`` — the one
place where broadcasting is undone.

    d(a+b) = (g, g)          d(a*b) = (g*b, g*a)        d(a/b) = (g/b, -g*a/b²)
    d exp  = g*y             d log  = g/x               d tanh = g*(1-y²)
    d sigmoid = g*y*(1-y)    d relu = g*[x>0]           d erf  = g*2/√π*exp(-x²)
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function, is_grad_enabled
from ..backend import get_array_module
from ..tensor import Tensor
from .shape import sum_to

# --------------------------------------------------------------------------- binary arithmetic


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        a, b = self.inputs
        return sum_to(g, a.shape), sum_to(g, b.shape)


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, g):
        a, b = self.inputs
        return sum_to(g, a.shape), sum_to(-g, b.shape)


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, g):
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (
            sum_to(g * self.saved(1), a.shape) if need_a else None,
            sum_to(g * self.saved(0), b.shape) if need_b else None,
        )


class Div(Function):
    def forward(self, a, b):
        return a / b

    def backward(self, g):
        a, b = self.inputs
        ga = g / self.saved(1)
        return sum_to(ga, a.shape), sum_to(-ga * self.saved(0) / b, b.shape) if self.needs_input_grad[
            1
        ] else None


class Pow(Function):
    """``a ** b`` for two tensors. d/da = b·a^(b-1); d/db = a^b·log a (taken as 0 where a = 0)."""

    def forward(self, a, b):
        return a**b

    def backward(self, g):
        a, b = self.saved_tensors
        y = self.saved_output
        ga = g * b * a ** (b - 1)
        safe_a = where_(a == 0, 1, a)
        return sum_to(ga, a.shape), sum_to(g * y * safe_a.log(), b.shape)


class PowScalar(Function):
    """``x ** c`` for a Python number c: d/dx = c·x^(c-1) (and 0 for c = 0, even at x = 0)."""

    def forward(self, x):
        return x**self.exponent

    def backward(self, g):
        (x,) = self.saved_tensors
        c = self.exponent
        if c == 0:  # x**0 = 1 is constant; c·x^(c-1) would be 0·∞ = nan at x = 0
            return g * 0
        return g * c * x ** (c - 1) if c != 1 else g


class Maximum(Function):
    """Elementwise max; at ties each input gets half the gradient (as PyTorch)."""

    def forward(self, a, b):
        return get_array_module(a).maximum(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        share = _tie_share(a.data, b.data, greater=True)
        return sum_to(g * share, a.shape), sum_to(g * (1 - share), b.shape)


class Minimum(Function):
    def forward(self, a, b):
        return get_array_module(a).minimum(a, b)

    def backward(self, g):
        a, b = self.saved_tensors
        share = _tie_share(a.data, b.data, greater=False)
        return sum_to(g * share, a.shape), sum_to(g * (1 - share), b.shape)


def _tie_share(a, b, greater: bool) -> Tensor:
    """The fraction of the gradient that goes to ``a``: 1 where it wins, 0.5 at ties, else 0."""
    wins = (a > b) if greater else (a < b)
    return Tensor._make((wins + 0.5 * (a == b)).astype(np.result_type(a.dtype, b.dtype)))


class Where(Function):
    """``where(cond, a, b)``: the gradient goes to whichever input was picked."""

    def forward(self, cond, a, b):
        self.cond = cond
        return get_array_module(a).where(cond, a, b)

    def backward(self, g):
        _, a, b = self.inputs
        zero = Tensor._make(get_array_module(g.data).zeros((), g.dtype))
        cond = Tensor._make(self.cond)
        return None, sum_to(where_(cond, g, zero), a.shape), sum_to(where_(cond, zero, g), b.shape)


def where_(cond: Tensor, a, b) -> Tensor:
    """``where`` with scalars allowed for ``a`` / ``b`` (defined in ops/__init__ for the public API)."""
    from . import where

    return where(cond, a, b)


# --------------------------------------------------------------------------- unary math


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


class Abs(Function):
    def forward(self, x):
        return abs(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * Tensor._make(get_array_module(x.data).sign(x.data))


class Exp(Function):
    def forward(self, x):
        return get_array_module(x).exp(x)

    def backward(self, g):
        return g * self.saved_output


class Log(Function):
    def forward(self, x):
        return get_array_module(x).log(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / x


class Log1p(Function):
    def forward(self, x):
        return get_array_module(x).log1p(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / (x + 1)


class Expm1(Function):
    def forward(self, x):
        return get_array_module(x).expm1(x)

    def backward(self, g):
        return g * (self.saved_output + 1)


class Sqrt(Function):
    def forward(self, x):
        return get_array_module(x).sqrt(x)

    def backward(self, g):
        return g * 0.5 / self.saved_output


class Rsqrt(Function):
    """1/√x; d/dx = -½·x^(-3/2) = -½·y³."""

    def forward(self, x):
        return 1 / get_array_module(x).sqrt(x)

    def backward(self, g):
        y = self.saved_output
        return g * -0.5 * y * y * y


class Sin(Function):
    def forward(self, x):
        return get_array_module(x).sin(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * x.cos()


class Cos(Function):
    def forward(self, x):
        return get_array_module(x).cos(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return -g * x.sin()


class Tanh(Function):
    def forward(self, x):
        return get_array_module(x).tanh(x)

    def backward(self, g):
        y = self.saved_output
        return g * (1 - y * y)


class Sigmoid(Function):
    """σ(x) = 1/(1+e^-x), without overflow: with e = exp(-|x|), σ = 1/(1+e) for x ≥ 0, e/(1+e) else."""

    def forward(self, x):
        xp = get_array_module(x)
        e = xp.exp(-abs(x))
        return xp.where(x >= 0, 1, e) / (1 + e)

    def backward(self, g):
        y = self.saved_output
        return g * y * (1 - y)


class Relu(Function):
    def forward(self, x):
        self.mask = x > 0
        return get_array_module(x).maximum(x, x.dtype.type(0))  # +0.0 for negatives (x·mask gives -0.0)

    def backward(self, g):
        if not is_grad_enabled():  # one pass: the ufunc reads the bool mask as 0/1
            return Tensor._make(g.data * self.mask)
        return g * Tensor._make(self.mask.astype(g.dtype))  # differentiable again (create_graph)


class Erf(Function):
    """The Gauss error function; d/dx = 2/√π·exp(-x²)."""

    def forward(self, x):
        return erf_array(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * (-(x * x)).exp()


class Clamp(Function):
    """Limit to [min, max]; the gradient passes where min ≤ x ≤ max (as PyTorch)."""

    def forward(self, x):
        xp = get_array_module(x)
        lo = -np.inf if self.min is None else self.min
        hi = np.inf if self.max is None else self.max
        self.mask = (x >= lo) & (x <= hi)
        return xp.clip(x, self.min, self.max).astype(x.dtype, copy=False)

    def backward(self, g):
        return g * Tensor._make(self.mask.astype(g.dtype))


def erf_array(x):
    """erf on an array: SciPy (or CuPy's cupyx) when present, else ``math.erf`` per element."""
    xp = get_array_module(x)
    if xp is not np:
        try:
            from cupyx.scipy.special import erf

            return erf(x)
        except ImportError:
            pass
        return xp.asarray(erf_array(xp.asnumpy(x)))
    try:
        from scipy.special import erf

        return erf(x).astype(x.dtype, copy=False)
    except ImportError:
        return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=object).astype(x.dtype)
