"""Reference models built from :mod:`tinylearn.nn` layers."""

from .mlp import MLP

__all__ = ["MLP"]
