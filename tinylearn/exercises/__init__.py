"""The lesson exercises and their grader: ``tinylearn check 1.3`` and ``exercises.check(fn)``.

Every lesson ends with exercises: the learner writes a function (a derivative, a backward rule, an
optimizer step, an initializer, ...) and the grader runs it through tests and gradient checks,
printing what is wrong. The reference solutions are the library's own code, so a passing exercise
means "you wrote what tinylearn runs".

An exercise is declared once, in ``tinylearn/exercises/lesson_S_M.py``, by decorating its *check*::

    @exercise("1.3.4", "sigmoid_backward", reference=_sigmoid_backward,
              signature="sigmoid_backward(x, grad_out)",
              prompt="The gradient of sigmoid(x) given the gradient of its output.")
    def _(fn):
        x = np.linspace(-4, 4, 9)
        expect_close(fn(x, np.ones(9)), _sigmoid_backward(x, np.ones(9)), "sigmoid_backward(x, 1)")

A check calls the learner's function and raises :class:`ExerciseFailure` with a message a learner can
act on (the input, what was expected, what came back); the helpers :func:`expect_close`,
:func:`expect_shape` and :func:`expect_gradcheck` write those messages. Any other exception escaping
the learner's code is reported as an error with its last traceback line.

Three ways to grade:

* in a notebook, after defining the function: ``exercises.check(sigmoid_backward)`` (found by name),
  or ``exercises.check("1.3")`` to grade every exercise of a lesson from the notebook's globals;
* from a shell: ``tinylearn check 1.3 my_answers.py`` (default file ``exercises_1_3.py``);
  ``tinylearn check 1.3 --template > exercises_1_3.py`` writes the file to fill in;
* ``tinylearn check 1.3 --reference`` grades the library's own solutions (always passes: a test runs
  it for every lesson).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Exercise",
    "ExerciseFailure",
    "NotWrittenYet",
    "Result",
    "check",
    "exercise",
    "exercises",
    "expect_close",
    "expect_gradcheck",
    "expect_shape",
    "grade",
    "report",
    "template",
]

_SECTION_RE = re.compile(r"^(\d+\.\d+)\.\d+$")
_LESSON_RE = re.compile(r"^\d+\.\d+$")


class ExerciseFailure(AssertionError):
    """A learner's function gave a wrong answer; the message says which input and what was expected."""


class NotWrittenYet(Exception):
    """Raised by the template's function bodies: the learner has not written this function yet."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: the function the learner writes and how it is checked.

    Attributes:
        lesson: the lesson id, ``"1.3"``.
        section: the curriculum subsection it belongs to, ``"1.3.4"``.
        name: the name of the function the learner defines, ``"sigmoid_backward"``.
        signature: how it is called, ``"sigmoid_backward(x, grad_out)"``.
        prompt: what to write, in one or two sentences.
        reference: the library's solution (a function with the same signature).
        run_check: ``run_check(fn)`` returns when ``fn`` is right and raises
            :class:`ExerciseFailure` otherwise.
    """

    lesson: str
    section: str
    name: str
    signature: str
    prompt: str
    reference: Callable[..., Any]
    run_check: Callable[[Callable[..., Any]], None]


@dataclass(frozen=True)
class Result:
    """The outcome of grading one exercise: ``status`` is passed, failed, error or missing."""

    exercise: Exercise
    status: str
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __str__(self) -> str:
        mark = {"passed": "✓", "failed": "✗", "error": "✗", "missing": "·"}[self.status]
        head = f"{mark} {self.exercise.section} {self.exercise.name}: {self.status}"
        return head + ("\n    " + self.message.replace("\n", "\n    ") if self.message else "")


_EXERCISES: dict[tuple[str, str], Exercise] = {}


def exercise(
    section: str,
    name: str,
    *,
    reference: Callable[..., Any],
    signature: str,
    prompt: str,
) -> Callable[[Callable[[Callable[..., Any]], None]], Callable[[Callable[..., Any]], None]]:
    """Declare the decorated function as the check of exercise ``name`` of subsection ``section``.

    Raises:
        ValueError: ``section`` is not ``S.M.N``, ``name`` is not an identifier, or the signature
            does not start with ``name(``.
    """
    match = _SECTION_RE.match(section)
    if not match:
        raise ValueError(f"exercise(): section must look like '1.3.4', got {section!r}")
    if not name.isidentifier():
        raise ValueError(f"exercise(): name must be a Python identifier, got {name!r}")
    if not signature.startswith(f"{name}("):
        raise ValueError(f"exercise(): signature must start with '{name}(', got {signature!r}")

    def decorate(run_check: Callable[[Callable[..., Any]], None]) -> Callable[[Callable[..., Any]], None]:
        ex = Exercise(match.group(1), section, name, signature, prompt.strip(), reference, run_check)
        _EXERCISES[(ex.lesson, name)] = ex
        return run_check

    return decorate


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("lesson_"):
            importlib.import_module(f"{__name__}.{info.name}")


def exercises(lesson: str | None = None) -> list[Exercise]:
    """The declared exercises, in curriculum order; only lesson ``lesson``'s when given.

    Raises:
        ValueError: ``lesson`` is not of the form ``S.M``.
    """
    if lesson is not None and not _LESSON_RE.match(str(lesson)):
        raise ValueError(f"exercises(): a lesson id looks like '1.3', got {lesson!r}")
    _load_all()
    found = [e for e in _EXERCISES.values() if lesson is None or e.lesson == lesson]
    return sorted(found, key=lambda e: (tuple(int(p) for p in e.section.split(".")), e.name))


# ------------------------------------------------------------------------------------------------
# Writing checks: messages a learner can act on
# ------------------------------------------------------------------------------------------------


def _host(value: Any) -> np.ndarray:
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        value = value.detach().numpy()
    return np.asarray(value)


def expect_close(got: Any, want: Any, what: str, *, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Fail unless ``got`` equals ``want`` elementwise within ``atol + rtol·|want|`` (Tensors allowed).

    The message names ``what`` was computed, the shapes when they differ, else the worst entry with
    both values.
    """
    if got is None:
        raise ExerciseFailure(f"{what}: your function returned None (a `return` is missing?)")
    try:
        g = _host(got).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ExerciseFailure(f"{what}: expected numbers, got {type(got).__name__} ({exc})") from None
    w = _host(want).astype(np.float64)
    if g.shape != w.shape:
        raise ExerciseFailure(f"{what}: expected shape {w.shape}, got shape {g.shape}")
    if not np.all(np.isfinite(g)) and np.all(np.isfinite(w)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(g))[0])
        raise ExerciseFailure(f"{what}: got {g[bad]} at index {bad}, expected {w[bad]:.6g}")
    err = np.abs(g - w) - (atol + rtol * np.abs(w))
    if np.any(err > 0):
        worst = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
        where = f" at index {tuple(int(i) for i in worst)}" if worst else ""
        count = f" ({int(np.sum(err > 0))} of {err.size} entries off)" if err.size > 1 else ""
        raise ExerciseFailure(
            f"{what}: wrong value{where}: expected {w[worst]:.6g}, got {g[worst]:.6g}{count}"
        )


def expect_shape(got: Any, shape: tuple[int, ...], what: str) -> None:
    """Fail unless ``got`` (array or Tensor) has shape ``shape``."""
    actual = tuple(_host(got).shape)
    if actual != tuple(shape):
        raise ExerciseFailure(f"{what}: expected shape {tuple(shape)}, got {actual}")


def expect_gradcheck(fn: Callable[..., Any], inputs: tuple[Any, ...], what: str, **kwargs: Any) -> None:
    """Fail unless ``tinylearn.gradcheck(fn, inputs)`` passes; the message is gradcheck's own report
    (the input, the worst entry, analytical against numerical)."""
    from ..gradcheck import GradcheckError, gradcheck

    try:
        gradcheck(fn, inputs, **kwargs)
    except GradcheckError as exc:
        raise ExerciseFailure(f"{what}: the gradient disagrees with finite differences:\n{exc}") from None


# ------------------------------------------------------------------------------------------------
# Grading
# ------------------------------------------------------------------------------------------------


def _grade_one(ex: Exercise, fn: Any) -> Result:
    if fn is None:
        return Result(ex, "missing", f"define `{ex.signature}`: {ex.prompt}")
    if not callable(fn):
        return Result(ex, "failed", f"`{ex.name}` must be a function, got {type(fn).__name__}")
    try:
        ex.run_check(fn)
    except NotWrittenYet:
        return Result(ex, "missing", f"write the body of `{ex.signature}`: {ex.prompt}")
    except ExerciseFailure as exc:
        return Result(ex, "failed", str(exc))
    except Exception as exc:  # the learner's code raised: show where
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return Result(
            ex,
            "error",
            f"your function raised {type(exc).__name__}: {exc}\n"
            f"(at {last.name}, line {last.lineno}: {last.line})",
        )
    return Result(ex, "passed")


def grade(
    lesson: str, namespace: Mapping[str, Any] | None = None, *, reference: bool = False
) -> list[Result]:
    """Grade every exercise of ``lesson``: the functions are looked up by name in ``namespace``
    (or the library's reference solutions with ``reference=True``).

    Raises:
        ValueError: ``lesson`` is not a lesson id or has no exercises.
    """
    found = exercises(lesson)
    if not found:
        known = sorted({e.lesson for e in exercises()}, key=lambda s: tuple(map(int, s.split("."))))
        raise ValueError(f"lesson {lesson!r} has no exercises; lessons with exercises: {', '.join(known)}")
    namespace = namespace or {}
    return [_grade_one(ex, ex.reference if reference else namespace.get(ex.name)) for ex in found]


def report(results: list[Result]) -> str:
    """The results as text, one block per exercise, and a summary line."""
    passed = sum(r.passed for r in results)
    lines = [str(r) for r in results]
    lines.append(f"{passed}/{len(results)} exercises passed")
    return "\n".join(lines)


def check(target: Any, namespace: Mapping[str, Any] | None = None, *, lesson: str | None = None) -> bool:
    """Grade from a notebook and print the verdict; returns True when everything passed.

    * ``check(fn)``: the exercise named ``fn.__name__`` (``lesson=`` picks one when names repeat);
    * ``check("1.3")``: every exercise of lesson 1.3, looked up in ``namespace`` (default: the
      caller's globals, i.e. the notebook's).

    Raises:
        ValueError: no exercise has that name, or the name is ambiguous, or the lesson is unknown.
    """
    if isinstance(target, str):
        if namespace is None:
            frame = inspect.currentframe()
            namespace = frame.f_back.f_globals if frame is not None and frame.f_back is not None else {}
        results = grade(target, namespace)
    else:
        name = getattr(target, "__name__", None)
        matches = [e for e in exercises(lesson) if e.name == name]
        if not matches:
            raise ValueError(
                f"check(): no exercise is called {name!r}"
                + (f" in lesson {lesson}" if lesson else "")
                + "; name your function as the exercise asks (exercises() lists them)"
            )
        if len(matches) > 1:
            raise ValueError(
                f"check(): {name!r} is an exercise of lessons {[e.lesson for e in matches]}; pass lesson="
            )
        results = [_grade_one(matches[0], target)]
    print(report(results))
    return all(r.passed for r in results)


def template(lesson: str) -> str:
    """A Python file to fill in: one function per exercise of ``lesson`` with its prompt, whose body
    raises :class:`NotWrittenYet` (graded as "missing" until written)."""
    found = exercises(lesson)
    if not found:
        raise ValueError(f"lesson {lesson!r} has no exercises")
    out = [
        f'"""Exercises of lesson {lesson}: write each function, then run'
        f' `tinylearn check {lesson} THIS_FILE`."""',
        "",
        "import numpy as np",
        "",
        "import tinylearn as tl",
        "from tinylearn.exercises import NotWrittenYet",
        "",
    ]
    for ex in found:
        prompt = "\n    ".join(_wrap(ex.prompt, 92))
        out += [
            "",
            f"def {ex.signature}:",
            f'    """{ex.section}: {prompt}"""',
            "    raise NotWrittenYet",
            "",
        ]
    return "\n".join(out)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(" ".join(text.split()), width) or [""]
