"""Neural-network building blocks. So far: :mod:`tinylearn.nn.functional`."""

from . import functional

__all__ = ["functional"]
