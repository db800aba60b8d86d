"""The registry of interactive figures: which function in :mod:`tinylearn.viz` serves which lesson.

Every figure the curriculum marks **Interactive** is a function of :mod:`tinylearn.viz` that says
which subsection it serves, with the :func:`interactive` decorator::

    @interactive(section="1.1.5", title="learning rate slider")
    def learning_rate_explorer(lr: float = 0.1) -> Figure: ...

The decorator records the function and returns it unchanged. ``tinylearn lessons coverage``
(:mod:`tinylearn.lessons`) imports every module of :mod:`tinylearn.viz` and counts the records
against the curriculum map, so a widget is counted as soon as it is decorated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["InteractiveSpec", "interactive", "registered", "unregister"]

F = TypeVar("F", bound=Callable[..., Any])

SECTION_RE = re.compile(r"^\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class InteractiveSpec:
    """One registered interactive figure.

    Attributes:
        section: the curriculum subsection it serves, e.g. ``"1.1.2"``.
        title: a short description of the figure.
        name: the function's qualified name, ``module.function``; the registry's key.
        func: the function itself.
    """

    section: str
    title: str
    name: str
    func: Callable[..., Any]


_REGISTRY: dict[str, InteractiveSpec] = {}


def interactive(section: str, title: str) -> Callable[[F], F]:
    """Record the decorated function as the interactive figure ``title`` of subsection ``section``.

    Args:
        section: a subsection number ``"S.M.N"`` of the curriculum map (``tinylearn/curriculum.toml``).
        title: a short description of the figure, shown by ``tinylearn lessons list``.

    Returns:
        A decorator that registers the function and returns it unchanged. Registering the same
        function again (a module reloaded) replaces the earlier record.

    Raises:
        ValueError: ``section`` is not of the form ``S.M.N`` or ``title`` is empty.
    """
    if not isinstance(section, str) or not SECTION_RE.match(section):
        raise ValueError(f"interactive(section=...) must look like '1.1.2', got {section!r}")
    if not title or not title.strip():
        raise ValueError("interactive(title=...) must not be empty")

    def decorate(func: F) -> F:
        name = f"{func.__module__}.{func.__qualname__}"
        _REGISTRY[name] = InteractiveSpec(section=section, title=title.strip(), name=name, func=func)
        return func

    return decorate


def registered(section: str | None = None) -> list[InteractiveSpec]:
    """The registered interactive figures, sorted by subsection then name; only ``section``'s if given."""
    specs = [s for s in _REGISTRY.values() if section is None or s.section == section]
    return sorted(specs, key=lambda s: (tuple(int(p) for p in s.section.split(".")), s.name))


def unregister(func_or_name: Callable[..., Any] | str) -> None:
    """Forget a registered figure (by function or qualified name); nothing happens if it is unknown."""
    if isinstance(func_or_name, str):
        name = func_or_name
    else:
        name = f"{func_or_name.__module__}.{func_or_name.__qualname__}"
    _REGISTRY.pop(name, None)
