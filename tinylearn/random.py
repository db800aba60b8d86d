"""Seedable random numbers: ``manual_seed`` and ``Generator``, as in PyTorch.

Random tensors are drawn on the host with NumPy's PCG64 and then moved to their device, so a
seed gives the same numbers on the CPU and on a GPU.
"""

from __future__ import annotations

import json

import numpy as np

__all__ = [
    "Generator",
    "default_generator",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]


class Generator:
    """A source of random numbers with its own state: ``Generator().manual_seed(0)``."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.manual_seed(np.random.SeedSequence().entropy % 2**63)

    def manual_seed(self, seed: int) -> Generator:
        """Reset the generator to a fixed state; returns itself, as in PyTorch."""
        if not isinstance(seed, int | np.integer):
            raise TypeError(f"manual_seed: expected an int, got {type(seed).__name__}")
        self._seed = int(seed)
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy and return the new seed."""
        self.manual_seed(np.random.SeedSequence().entropy % 2**63)
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        """The full state as a uint8 Tensor (JSON of the PCG64 state): save it to resume exactly."""
        from .tensor import Tensor

        blob = json.dumps({"seed": self._seed, "state": self._rng.bit_generator.state}).encode()
        return Tensor(np.frombuffer(blob, dtype=np.uint8).copy())

    def set_state(self, state) -> None:
        raw = bytes(np.asarray(state.numpy() if hasattr(state, "numpy") else state, dtype=np.uint8))
        try:
            saved = json.loads(raw.decode())
            self._seed = saved["seed"]
            self._rng.bit_generator.state = saved["state"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError("set_state: not a state produced by Generator.get_state()") from exc

    # Draws used by the creation functions (NumPy arrays on the host).
    def uniform(self, low: float, high: float, shape: tuple[int, ...]) -> np.ndarray:
        return self._rng.uniform(low, high, shape)

    def normal(self, mean: float, std: float, shape: tuple[int, ...]) -> np.ndarray:
        return self._rng.normal(mean, std, shape)

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> np.ndarray:
        return self._rng.integers(low, high, shape, dtype=np.int64)

    def permutation(self, n: int) -> np.ndarray:
        return self._rng.permutation(n)

    @property
    def numpy_rng(self) -> np.random.Generator:
        """The underlying NumPy generator, for code that draws arrays directly."""
        return self._rng


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and NumPy's legacy global RNG) for reproducible runs."""
    np.random.seed(int(seed) % 2**32)
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)
