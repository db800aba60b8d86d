"""Containers: modules that hold other modules.

* ``Sequential(a, b, c)``: ``forward(x) = c(b(a(x)))``; children named "0", "1", "2" (or by an
  ``OrderedDict``), so its ``state_dict`` keys are ``"0.weight"``, ... as in PyTorch.
* ``ModuleList([...])``: a list whose modules are registered (a plain Python list would hide
  their parameters from ``parameters()``); you write the forward that uses them.
* ``ModuleDict({...})``: the same as a dict.
"""

# ruff: noqa: A001  (`input` is PyTorch's argument name)

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .module import Module, _indent

__all__ = ["ModuleDict", "ModuleList", "Sequential"]


class _ModuleSequence(Module):
    """What ``Sequential`` and ``ModuleList`` share: children named by position ("0", "1", ...),
    ``len``, iteration, ``c[i]``, ``c[a:b]``, ``c[i] = m``, ``del c[i]``, ``append``, ``extend`` and
    ``insert``. Deleting or inserting renumbers the children, as PyTorch does."""

    def _name(self, idx: int) -> str:
        """The child name at a (possibly negative) position, with an IndexError when out of range."""
        idx = operator.index(idx)
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"{type(self).__name__}: index {idx} is out of range for {n} modules")
        return list(self._modules)[idx % n]

    def _slice(self, idx: slice) -> Module:
        raise NotImplementedError

    def __getitem__(self, idx: int | slice) -> Module:
        return self._slice(idx) if isinstance(idx, slice) else self._modules[self._name(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, self._name(idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        names = list(self._modules)[idx] if isinstance(idx, slice) else [self._name(idx)]
        self._renumber([m for name, m in self._modules.items() if name not in names])

    def _renumber(self, modules: list[Module]) -> None:
        self._modules.clear()
        for i, module in enumerate(modules):
            self.add_module(str(i), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> _ModuleSequence:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> _ModuleSequence:
        if not isinstance(modules, Iterable):
            raise TypeError(
                f"{type(self).__name__}.extend expects an iterable, but got {type(modules).__name__}"
            )
        for module in modules:
            self.append(module)
        return self

    def __iadd__(self, modules: Iterable[Module]) -> _ModuleSequence:
        return self.extend(modules)

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)


class Sequential(_ModuleSequence):
    """Modules applied one after the other: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))`` or
    ``Sequential(OrderedDict(fc=Linear(2, 8), act=ReLU()))``.

    A slice ``seq[a:b]`` is a new ``Sequential`` of the same modules under the same names.
    """

    def __init__(self, *args: Module) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def _slice(self, idx: slice) -> Sequential:
        return Sequential(OrderedDict(list(self._modules.items())[idx]))

    def forward(self, input: Any) -> Any:
        for module in self:
            input = module(input)
        return input


class ModuleList(_ModuleSequence):
    """A list of modules, registered as children "0", "1", ...: their parameters are found by
    ``parameters()`` and saved by ``state_dict()`` (a plain Python list would hide them). It has
    no forward: your module's forward loops over it. A slice is a new ``ModuleList``."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _slice(self, idx: slice) -> ModuleList:
        return ModuleList(list(self._modules.values())[idx])

    def __repr__(self) -> str:
        """Like PyTorch, runs of identical modules print once: ``(0-11): 12 x Block(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return "ModuleList()"
        lines, start = [], 0
        for i in range(1, len(reprs) + 1):
            if i == len(reprs) or reprs[i] != reprs[start]:
                run = i - start
                label = f"({start}): " if run == 1 else f"({start}-{i - 1}): {run} x "
                lines.append(_indent(label + reprs[start], 2))
                start = i
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules, registered as children under their keys (in insertion order):
    ``d["name"]``, ``d["name"] = m``, ``del d["name"]``, ``in``, ``len``, iteration over keys,
    ``keys()``, ``values()``, ``items()``, ``update()``, ``pop()`` and ``clear()``."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        self._modules.clear()
