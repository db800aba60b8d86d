"""The hot loops of convolution and pooling, behind one seam.

Each primitive exists twice, with the same arguments and the same numbers:

* :mod:`.numpy_kernels` — whole-array code with one Python loop over the kernel's offsets. It
  runs on any array namespace, so it is also the GPU (CuPy) path.
* :mod:`.numba_kernels` — explicit loops compiled by Numba (``cache=True``: compiled once, then
  loaded from disk; one thread, the matrix products being where the second core pays, see
  ``numba_kernels.PARALLEL``).

The choice is made once, when a kernel is first needed (so that ``import tinylearn`` does not
import Numba): ``TINYLEARN_KERNELS=numba`` or ``numpy``; by default Numba when it imports and its
JIT is on (``NUMBA_DISABLE_JIT=1`` makes its kernels plain Python loops,
correct but far too slow for training, so the default then falls back to NumPy). Arrays that
are not NumPy arrays (CuPy) always take the NumPy-style path. :func:`backend` says which is in use.

The primitives (images (N, C, H, W); ``kernel``, ``stride``, ``padding``, ``dilation`` and
``out_hw`` are (rows, columns) pairs):

* ``im2col(x, kernel, stride, padding, dilation, out_hw)`` → (C, kh, kw, N, Ho, Wo) windows
* ``col2im(cols, x_shape, kernel, stride, padding, dilation)`` → (N, C, H, W), its adjoint
* ``max_pool2d(x, kernel, stride, padding, dilation, out_hw)`` → (values, flat indices)
* ``max_pool2d_backward(g, indices, x_shape)`` → the gradient scattered to the indices
* ``avg_pool2d(x, kernel, stride, padding, out_hw, scale)`` → window sums × scale (Ho, Wo)
* ``avg_pool2d_backward(g, x_shape, kernel, stride, padding, scale)`` → its adjoint

and for the Winograd F(m×m, 3×3) convolution (``tiles`` = (th, tw) m×m output tiles per image,
α = m + 2, P = N·th·(tw + 1) tile columns; ``bt`` = Bᵀ (α×α) and ``at`` = Aᵀ (m×α)):

* ``winograd_input(x, bt, padding, tiles)`` → V (α², C, P), Bᵀ d B of every α×α input tile
* ``winograd_output(m, at, out_shape, tiles)`` → y (N, K, Ho, Wo), Aᵀ m A of every tile of M (α², K, P)
* ``winograd_grad(g, at, tiles)`` → M̄ (α², K, P), A ȳ Aᵀ: the adjoint of ``winograd_output``
* ``winograd_input_grad(dv, bt, x_shape, padding, tiles)`` → x̄ (N, C, H, W): the adjoint of
  ``winograd_input``, each tile's B V̄ Bᵀ added back where the tile was read

and for batch normalisation, per channel c of (N, C, L) arrays (float64 statistics):

* ``channel_stats(x)`` → (mean, biased variance)
* ``channel_affine(x, scale, shift)`` → x·scale[c] + shift[c]
* ``channel_grad_sums(g, x, mean)`` → (Σ g, Σ g·(x − mean[c]))
* ``channel_grad_input(g, x, a, b, d)`` → a[c]·g + b[c]·x + d[c]

and for the optimizers, in place:

* ``adam_step(theta, g, m, v, beta1, beta2, step_size, bias_correction2_sqrt, eps)`` → one Adam update

The two implementations give identical numbers (each output element is computed by the same
operations in the same order), except the float64 per-channel sums, which Numba may reorder
(vectorised): those agree to float64 rounding.
"""

from __future__ import annotations

import os
from types import ModuleType

import numpy as np

from . import numpy_kernels

__all__ = [
    "adam_step",
    "available_backends",
    "avg_pool2d",
    "avg_pool2d_backward",
    "backend",
    "channel_affine",
    "channel_grad_input",
    "channel_grad_sums",
    "channel_stats",
    "col2im",
    "im2col",
    "max_pool2d",
    "max_pool2d_backward",
    "winograd_grad",
    "winograd_input",
    "winograd_input_grad",
    "winograd_output",
]

_BACKENDS = ("numba", "numpy")


def _load_numba() -> ModuleType | None:
    """The Numba kernels, or None when Numba is not installed (or fails to import)."""
    try:
        from . import numba_kernels
    except ImportError:
        return None
    return numba_kernels


def _choose() -> tuple[str, ModuleType]:
    requested = os.environ.get("TINYLEARN_KERNELS", "").strip().lower()
    if requested not in ("", *_BACKENDS):
        raise ValueError(f"TINYLEARN_KERNELS must be 'numba' or 'numpy', got {requested!r}")
    if requested == "numpy":
        return "numpy", numpy_kernels
    compiled = _load_numba()
    if compiled is None:
        if requested == "numba":
            raise ImportError(
                "TINYLEARN_KERNELS=numba but numba cannot be imported: install it with "
                "pip install 'tinylearn[numba]', or set TINYLEARN_KERNELS=numpy"
            )
        return "numpy", numpy_kernels
    if not requested:
        from numba import config

        if config.DISABLE_JIT:
            return "numpy", numpy_kernels
    return "numba", compiled


# The choice, made on first use (importing Numba takes most of a second; ``import tinylearn``
# should not pay it before a kernel is needed): (name, module) or None before.
_chosen: tuple[str, ModuleType] | None = None


def _cpu() -> ModuleType:
    global _chosen
    if _chosen is None:
        _chosen = _choose()
    return _chosen[1]


def backend() -> str:
    """The kernels used for NumPy arrays: ``"numba"`` or ``"numpy"`` (chosen once, on first use)."""
    _cpu()
    return _chosen[0]


def available_backends() -> tuple[str, ...]:
    """The kernel implementations that can run here (``"numpy"`` always; ``"numba"`` if installed)."""
    return _BACKENDS if _load_numba() is not None else ("numpy",)


_COMPILED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _for(x) -> ModuleType:
    """The implementation for ``x``: the chosen one for float32/float64 NumPy arrays, the array
    code for others (CuPy arrays; float16, which Numba does not compute in)."""
    if isinstance(x, np.ndarray) and x.dtype in _COMPILED_DTYPES:
        return _cpu()
    return numpy_kernels


def im2col(x, kernel, stride, padding, dilation, out_hw):
    return _for(x).im2col(x, kernel, stride, padding, dilation, out_hw)


def col2im(cols, x_shape, kernel, stride, padding, dilation):
    return _for(cols).col2im(cols, x_shape, kernel, stride, padding, dilation)


def max_pool2d(x, kernel, stride, padding, dilation, out_hw):
    return _for(x).max_pool2d(x, kernel, stride, padding, dilation, out_hw)


def max_pool2d_backward(g, indices, x_shape):
    return _for(g).max_pool2d_backward(g, indices, x_shape)


def avg_pool2d(x, kernel, stride, padding, out_hw, scale):
    return _for(x).avg_pool2d(x, kernel, stride, padding, out_hw, scale)


def avg_pool2d_backward(g, x_shape, kernel, stride, padding, scale):
    return _for(g).avg_pool2d_backward(g, x_shape, kernel, stride, padding, scale)


def winograd_input(x, bt, padding, tiles):
    return _for(x).winograd_input(x, bt, padding, tiles)


def winograd_output(m, at, out_shape, tiles):
    return _for(m).winograd_output(m, at, out_shape, tiles)


def winograd_grad(g, at, tiles):
    return _for(g).winograd_grad(g, at, tiles)


def winograd_input_grad(dv, bt, x_shape, padding, tiles):
    return _for(dv).winograd_input_grad(dv, bt, x_shape, padding, tiles)


def channel_stats(x):
    return _for(x).channel_stats(x)


def channel_affine(x, scale, shift):
    return _for(x).channel_affine(x, scale, shift)


def channel_grad_sums(g, x, mean):
    return _for(g).channel_grad_sums(g, x, mean)


def channel_grad_input(g, x, a, b, d):
    return _for(g).channel_grad_input(g, x, a, b, d)


def adam_step(theta, g, m, v, beta1, beta2, step_size, bias_correction2_sqrt, eps):
    return _for(theta).adam_step(theta, g, m, v, beta1, beta2, step_size, bias_correction2_sqrt, eps)


for _f in (
    im2col,
    col2im,
    max_pool2d,
    max_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    winograd_input,
    winograd_output,
    winograd_grad,
    winograd_input_grad,
    channel_stats,
    channel_affine,
    channel_grad_sums,
    channel_grad_input,
    adam_step,
):
    _f.__doc__ = getattr(numpy_kernels, _f.__name__).__doc__
