"""The lesson map: the curriculum, the lessons written for it, and how much of it they cover.

    tinylearn lessons list [--series S]                      every module and subsection, with its status
    tinylearn lessons coverage [--series S] [--missing] [--json]
    tinylearn lessons check                                  the lesson files are well formed and in sync

Three sources are compared:

* the **curriculum map**, ``tinylearn/curriculum.toml`` (shipped inside the package; the copy at
  ``lessons/curriculum.toml`` is kept identical by a test): every module and numbered subsection of
  the three series, in our own words, with how many **Interactive** figures each subsection carries
  and whether it comes with a Colab notebook. Load it with :func:`load_curriculum`.
* the **lessons**, ``lessons/*.md``: MyST-Markdown notebooks with YAML front matter (``lesson: "1.3"``,
  ``title``, ``modules: [...]``), each with its jupytext-paired ``.ipynb`` beside it. A heading that
  starts with a subsection number (``## 1.1.3 Scoring a model``) is that subsection's text. Read
  them with :func:`scan_lessons`.
* the **widgets**: functions of :mod:`tinylearn.viz` decorated with
  :func:`tinylearn.viz.interactive` (``section="1.1.3"``); see :func:`discover_widgets`.

A subsection is covered when a lesson has its heading; an interactive when a widget declares its
subsection (at most as many as the subsection asks for are counted); a Colab notebook when a lesson
with that subsection's heading has its ``.ipynb`` beside it. :func:`coverage` computes it all,
:func:`check_lessons` lists format problems. ``add_subparsers`` / ``run`` plug the commands into
:mod:`tinylearn.cli`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .viz.registry import InteractiveSpec, registered

__all__ = [
    "COLAB_BRANCH",
    "COLAB_REPO",
    "FAST_ENV",
    "Count",
    "Coverage",
    "Curriculum",
    "Heading",
    "Lesson",
    "Module",
    "Problem",
    "Section",
    "SectionStatus",
    "add_subparsers",
    "check_lessons",
    "coverage",
    "default_lessons_dir",
    "discover_widgets",
    "fast",
    "load_curriculum",
    "notebook_sync_problems",
    "parse_front_matter",
    "run",
    "scan_lessons",
]

CURRICULUM_FILE = "curriculum.toml"
SECTION_HEADING_RE = re.compile(r"^(#{1,6})\s+(\d+\.\d+\.\d+)(?=\s|$)\s*(.*?)\s*#*\s*$")
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})")
LESSON_ID_RE = re.compile(r"^\d+\.\d+$")
NOT_LESSONS = frozenset({"README.md"})
# The environment variable of the FAST switch: set (to anything but 0/false/no/off), every lesson
# shrinks its settings to run in seconds (the docs build and the tests set it); unset, learners
# get the full-size runs.
FAST_ENV = "TINYLEARN_FAST"
# The GitHub repository (owner/name) and branch the "Open in Colab" links of the lessons point to.
COLAB_REPO = "tinylearn/tinylearn"
COLAB_BRANCH = "main"


def fast() -> bool:
    """Whether the lessons run in FAST mode: ``$TINYLEARN_FAST`` set to anything but ``""``, ``0``,
    ``false``, ``no`` or ``off``. Every lesson reads it in its first cell."""
    return os.environ.get(FAST_ENV, "").strip().lower() not in {"", "0", "false", "no", "off"}


def _section_key(section_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in section_id.split("."))


# ------------------------------------------------------------------------------------------------
# The curriculum map
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One numbered subsection of the curriculum, e.g. ``1.1.3``.

    Attributes:
        id: the number, ``"S.M.N"``.
        title: a short title in the project's words.
        module: the id of its module, ``"S.M"``.
        interactives: how many interactive figures the curriculum asks for here.
        notebook: whether the curriculum asks for a Colab notebook here.
        topics: the un-numbered sub-topics the subsection groups (e.g. the activations of 1.2.3).
    """

    id: str
    title: str
    module: str
    interactives: int = 0
    notebook: bool = False
    topics: tuple[str, ...] = ()

    @property
    def series(self) -> str:
        """The series number, ``"1"`` for ``1.1.3``."""
        return self.id.split(".")[0]


@dataclass(frozen=True)
class Module:
    """One curriculum module, which is one lesson, e.g. ``1.3``.

    Attributes:
        id: the number, ``"S.M"``.
        title: a short title in the project's words.
        adds: the library modules the lesson adds (DESIGN.md's lesson → module map).
        sections: its subsections in order.
        optional: the curriculum marks the module optional.
    """

    id: str
    title: str
    adds: tuple[str, ...]
    sections: tuple[Section, ...]
    optional: bool = False

    @property
    def series(self) -> str:
        """The series number, ``"1"`` for ``1.3``."""
        return self.id.split(".")[0]


@dataclass(frozen=True)
class Curriculum:
    """The whole curriculum map: series titles and modules in order."""

    series: dict[str, str]
    modules: tuple[Module, ...]

    @property
    def sections(self) -> tuple[Section, ...]:
        """Every subsection of every module, in order."""
        return tuple(s for m in self.modules for s in m.sections)

    def module(self, module_id: str) -> Module | None:
        """The module ``module_id`` or ``None``."""
        return next((m for m in self.modules if m.id == module_id), None)

    def section(self, section_id: str) -> Section | None:
        """The subsection ``section_id`` or ``None``."""
        return next((s for s in self.sections if s.id == section_id), None)


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    return tomllib.loads(text)


def curriculum_text() -> str:
    """The text of the curriculum map shipped inside the package."""
    return resources.files("tinylearn").joinpath(CURRICULUM_FILE).read_text(encoding="utf-8")


def load_curriculum(path: str | os.PathLike[str] | None = None) -> Curriculum:
    """Load the curriculum map (the packaged ``tinylearn/curriculum.toml`` unless ``path`` is given).

    Raises:
        ValueError: the file breaks the map's rules (ids out of order or not nested, counts negative).
    """
    text = curriculum_text() if path is None else Path(path).read_text(encoding="utf-8")
    data = _toml_loads(text)
    series = {str(s["id"]): str(s["title"]) for s in data.get("series", [])}
    modules = []
    seen: set[str] = set()
    for raw in data.get("modules", []):
        module_id = str(raw["id"])
        if not LESSON_ID_RE.match(module_id) or module_id.split(".", maxsplit=1)[0] not in series:
            raise ValueError(f"curriculum map: bad module id {module_id!r}")
        sections = []
        for entry in raw.get("sections", []):
            section = Section(
                id=str(entry["id"]),
                title=str(entry["title"]),
                module=module_id,
                interactives=int(entry.get("interactives", 0)),
                notebook=bool(entry.get("notebook", False)),
                topics=tuple(str(t) for t in entry.get("topics", ())),
            )
            if section.id.rpartition(".")[0] != module_id or section.id in seen:
                raise ValueError(f"curriculum map: section {section.id!r} misplaced or repeated")
            if section.interactives < 0:
                raise ValueError(f"curriculum map: section {section.id}: negative interactives")
            seen.add(section.id)
            sections.append(section)
        modules.append(
            Module(
                id=module_id,
                title=str(raw["title"]),
                adds=tuple(str(a) for a in raw.get("adds", ())),
                sections=tuple(sections),
                optional=bool(raw.get("optional", False)),
            )
        )
    return Curriculum(series=series, modules=tuple(modules))


# ------------------------------------------------------------------------------------------------
# The lessons
# ------------------------------------------------------------------------------------------------


def default_lessons_dir() -> Path:
    """Where the lessons are: ``$TINYLEARN_LESSONS``, else ``lessons/`` of the source checkout this
    package lives in, else ``./lessons``."""
    env = os.environ.get("TINYLEARN_LESSONS")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parents[1] / "lessons"
    return beside if beside.is_dir() else Path.cwd() / "lessons"


def _scalar(value: str) -> Any:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if value.startswith("[") and value.endswith("]"):
        inner = value[1:-1].strip()
        return [_scalar(v) for v in inner.split(",")] if inner else []
    if value in ("true", "false"):
        return value == "true"
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if re.fullmatch(r"-?\d+\.\d*", value):
        return float(value)
    return value


def _mini_yaml(text: str) -> dict[str, Any]:
    """A small YAML subset for front matter when PyYAML is absent: top-level ``key: value`` with
    scalars and flow lists, ``- item`` block lists; nested mappings are kept as ``{}``."""
    out: dict[str, Any] = {}
    key: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"cannot read front matter line {line!r}")
            key = name.strip()
            out[key] = _scalar(value) if value.strip() else {}
        elif key is not None and line.strip().startswith("- "):
            if not isinstance(out[key], list):
                out[key] = []
            out[key].append(_scalar(line.strip()[2:]))
    return out


def parse_front_matter(text: str) -> tuple[dict[str, Any] | None, int]:
    """Split off a file's YAML front matter (between ``---`` lines at the very top).

    Returns:
        ``(mapping, body_start_line)``: the parsed mapping (``None`` when there is no front matter)
        and the 0-based index of the first line after it.

    Raises:
        ValueError: the front matter is not closed or not a YAML mapping.
    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None, 0
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        raise ValueError("front matter: no closing '---'")
    block = "\n".join(lines[1:end])
    try:
        import yaml
    except ImportError:
        data: Any = _mini_yaml(block)
    else:
        try:
            data = yaml.safe_load(block) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"front matter: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("front matter: not a mapping")
    return data, end + 1


@dataclass(frozen=True)
class Heading:
    """A heading of a lesson that carries a subsection number."""

    line: int
    section: str
    text: str


@dataclass
class Lesson:
    """One lesson file as read from disk (whether or not it is well formed).

    Attributes:
        path: the ``.md`` file.
        front: its front matter (``{}`` when it has none or it cannot be read).
        headings: the headings that carry a subsection number, in order.
        errors: what made the file unreadable (front matter problems).
    """

    path: Path
    front: dict[str, Any]
    headings: list[Heading] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def lesson_id(self) -> str | None:
        """The front matter's ``lesson`` when it is a string, else ``None``."""
        value = self.front.get("lesson")
        return value if isinstance(value, str) else None

    @property
    def title(self) -> str:
        """The front matter's ``title`` (empty when absent)."""
        return str(self.front.get("title") or "")

    @property
    def notebook(self) -> Path:
        """The paired notebook's path (it may not exist)."""
        return self.path.with_suffix(".ipynb")

    @property
    def sections(self) -> list[str]:
        """The subsection numbers of its headings, in order."""
        return [h.section for h in self.headings]


def read_lesson(path: Path) -> Lesson:
    """Read one lesson file: its front matter and its numbered headings (outside code fences)."""
    text = path.read_text(encoding="utf-8")
    lesson = Lesson(path=path, front={})
    try:
        front, start = parse_front_matter(text)
    except ValueError as exc:
        lesson.errors.append(str(exc))
        front, start = None, 0
    lesson.front = front or {}
    fence: str | None = None
    for number, line in enumerate(text.splitlines()[start:], start=start + 1):
        match = FENCE_RE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence) and not line.strip()[len(marker) :]:
                fence = None
            continue
        if fence is None:
            heading = SECTION_HEADING_RE.match(line)
            if heading:
                lesson.headings.append(Heading(number, heading.group(2), heading.group(3)))
    return lesson


def scan_lessons(lessons_dir: str | os.PathLike[str] | None = None) -> list[Lesson]:
    """Read every ``*.md`` of the lessons folder except ``README.md``, sorted by lesson id then name."""
    folder = Path(lessons_dir) if lessons_dir is not None else default_lessons_dir()
    if not folder.is_dir():
        return []
    lessons = [read_lesson(p) for p in sorted(folder.glob("*.md")) if p.name not in NOT_LESSONS]

    def order(lesson: Lesson) -> tuple[tuple[int, ...], str]:
        lid = lesson.lesson_id
        key = _section_key(lid) if lid and LESSON_ID_RE.match(lid) else (10**6,)
        return key, lesson.path.name

    return sorted(lessons, key=order)


# ------------------------------------------------------------------------------------------------
# Widgets and notebooks
# ------------------------------------------------------------------------------------------------


def discover_widgets(warnings: list[str] | None = None) -> list[InteractiveSpec]:
    """Import every module of :mod:`tinylearn.viz` (so that their decorators run) and return the
    registered interactive figures. A module that fails to import is skipped, with a line added to
    ``warnings`` when a list is given."""
    from . import viz

    for info in pkgutil.walk_packages(viz.__path__, prefix="tinylearn.viz."):
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # an optional dependency missing must not break the count
            if warnings is not None:
                warnings.append(f"{info.name} not imported: {type(exc).__name__}: {exc}")
    return registered()


def _cells(notebook: Any) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


def notebook_sync_problems(md_path: Path, ipynb_path: Path | None = None) -> list[str]:
    """Compare a lesson's cells with those of its paired notebook, ignoring outputs and metadata.

    Needs jupytext (a ``test``/``docs`` extra). Returns the differences found (empty when in sync);
    a missing notebook is one problem.

    Raises:
        ImportError: jupytext is not installed.
    """
    import jupytext

    ipynb_path = ipynb_path or md_path.with_suffix(".ipynb")
    if not ipynb_path.is_file():
        return [f"no paired notebook {ipynb_path.name} (run: jupytext --sync {md_path.name})"]
    try:
        text_cells = _cells(jupytext.read(md_path))
        nb_cells = _cells(jupytext.read(ipynb_path))
    except Exception as exc:  # jupytext/nbformat raise many kinds on malformed files
        return [f"cannot read the pair: {type(exc).__name__}: {exc}"]
    if text_cells == nb_cells:
        return []
    hint = f"out of sync with {ipynb_path.name} (run: jupytext --sync {md_path.name})"
    if len(text_cells) != len(nb_cells):
        return [f"{hint}: {len(text_cells)} cells in the .md, {len(nb_cells)} in the .ipynb"]
    index = next(i for i, (a, b) in enumerate(zip(text_cells, nb_cells, strict=True)) if a != b)
    first = nb_cells[index][1].splitlines()[:1] or [""]
    return [f"{hint}: cell {index + 1} differs (.ipynb: {first[0][:60]!r})"]


# ------------------------------------------------------------------------------------------------
# Coverage
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Count:
    """``have`` out of ``total``."""

    have: int
    total: int

    @property
    def percent(self) -> float:
        """``100 * have / total`` (100 when nothing is asked for)."""
        return 100.0 * self.have / self.total if self.total else 100.0

    def __add__(self, other: Count) -> Count:
        return Count(self.have + other.have, self.total + other.total)

    def __ge__(self, other: Count) -> bool:  # type: ignore[override]
        """At least as far along: as many covered, out of the same number asked for."""
        return self.have >= other.have and self.total == other.total

    def __str__(self) -> str:
        return f"{self.have}/{self.total} ({self.percent:.0f}%)"


@dataclass(frozen=True)
class SectionStatus:
    """How far one subsection is covered.

    Attributes:
        section: the subsection.
        lessons: the lesson files that have its heading.
        widgets: the widgets that declare it (all of them, even beyond the number asked for).
        notebook: whether a lesson with its heading has its ``.ipynb`` (meaningful when asked for).
    """

    section: Section
    lessons: tuple[Path, ...]
    widgets: tuple[InteractiveSpec, ...]
    notebook: bool

    @property
    def heading(self) -> bool:
        """A lesson has its heading."""
        return bool(self.lessons)

    @property
    def interactives(self) -> int:
        """Interactives served (capped at the number the subsection asks for)."""
        return min(len(self.widgets), self.section.interactives)

    @property
    def complete(self) -> bool:
        """Heading, every interactive and (if asked for) the notebook are there."""
        return (
            self.heading
            and self.interactives == self.section.interactives
            and (self.notebook or not self.section.notebook)
        )


SERIES_KEYS = ("subsections", "interactives", "notebooks")


@dataclass(frozen=True)
class Coverage:
    """The coverage of the curriculum by the lessons, widgets and notebooks found."""

    curriculum: Curriculum
    lessons_dir: Path
    statuses: tuple[SectionStatus, ...]

    def select(self, series: str | None = None, module: str | None = None) -> list[SectionStatus]:
        """The statuses of one series or module (all when neither is given)."""
        return [
            st
            for st in self.statuses
            if (series is None or st.section.series == series)
            and (module is None or st.section.module == module)
        ]

    def counts(self, series: str | None = None, module: str | None = None) -> dict[str, Count]:
        """``{"subsections", "interactives", "notebooks"}`` → :class:`Count`, for a series/module or all."""
        chosen = self.select(series, module)
        notebooks = [st for st in chosen if st.section.notebook]
        return {
            "subsections": Count(sum(st.heading for st in chosen), len(chosen)),
            "interactives": Count(
                sum(st.interactives for st in chosen), sum(st.section.interactives for st in chosen)
            ),
            "notebooks": Count(sum(st.notebook for st in notebooks), len(notebooks)),
        }

    def missing(self, series: str | None = None) -> list[SectionStatus]:
        """The subsections with something missing."""
        return [st for st in self.select(series) if not st.complete]

    def to_json(self, series: str | None = None) -> dict[str, Any]:
        """A JSON-ready summary: per-series and total counts, and every incomplete subsection."""

        def counts_json(counts: dict[str, Count]) -> dict[str, Any]:
            return {
                key: {"have": c.have, "total": c.total, "percent": round(c.percent, 1)}
                for key, c in counts.items()
            }

        chosen = [series] if series else list(self.curriculum.series)
        return {
            "lessons_dir": str(self.lessons_dir),
            "series": {
                s: {"title": self.curriculum.series[s], **counts_json(self.counts(series=s))} for s in chosen
            },
            "total": counts_json(_sum_counts(self.counts(series=s) for s in chosen)),
            "missing": [
                {
                    "section": st.section.id,
                    "module": st.section.module,
                    "title": st.section.title,
                    "heading": st.heading,
                    "interactives": {"have": st.interactives, "total": st.section.interactives},
                    "notebook": None if not st.section.notebook else st.notebook,
                }
                for s in chosen
                for st in self.missing(s)
            ],
        }


def _sum_counts(many: Iterable[dict[str, Count]]) -> dict[str, Count]:
    total = {key: Count(0, 0) for key in SERIES_KEYS}
    for counts in many:
        total = {key: total[key] + counts[key] for key in SERIES_KEYS}
    return total


def coverage(
    lessons_dir: str | os.PathLike[str] | None = None,
    widgets: Sequence[InteractiveSpec] | None = None,
    curriculum: Curriculum | None = None,
) -> Coverage:
    """How much of the curriculum the lessons in ``lessons_dir`` and the widgets cover.

    Args:
        lessons_dir: the lessons folder (default: :func:`default_lessons_dir`).
        widgets: the interactive figures to count (default: :func:`discover_widgets`).
        curriculum: the map (default: the packaged one).
    """
    curriculum = curriculum or load_curriculum()
    folder = Path(lessons_dir) if lessons_dir is not None else default_lessons_dir()
    lessons = scan_lessons(folder)
    widgets = discover_widgets() if widgets is None else widgets
    statuses = []
    for section in curriculum.sections:
        having = [lesson for lesson in lessons if section.id in lesson.sections]
        statuses.append(
            SectionStatus(
                section=section,
                lessons=tuple(lesson.path for lesson in having),
                widgets=tuple(w for w in widgets if w.section == section.id),
                notebook=any(lesson.notebook.is_file() for lesson in having),
            )
        )
    return Coverage(curriculum=curriculum, lessons_dir=folder, statuses=tuple(statuses))


# ------------------------------------------------------------------------------------------------
# The format check
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a lesson file (``line`` 0 when it concerns the whole file)."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


def check_lessons(
    lessons_dir: str | os.PathLike[str] | None = None,
    curriculum: Curriculum | None = None,
    widgets: Sequence[InteractiveSpec] | None = None,
    notes: list[str] | None = None,
) -> list[Problem]:
    """Check every lesson of ``lessons_dir`` and the registered widgets against the curriculum map.

    A lesson must have front matter with ``lesson`` (a quoted ``"S.M"`` string naming a module of the
    map), a non-empty ``title`` and ``modules`` (a list of strings); its ``.ipynb`` pair must exist
    and hold the same cells (checked with jupytext when installed, otherwise a line goes to
    ``notes``); every numbered heading must be a subsection of the map that belongs to the lesson's
    module, and appear once. Every widget must declare a subsection that asks for interactives.
    """
    curriculum = curriculum or load_curriculum()
    widgets = discover_widgets(notes) if widgets is None else widgets
    problems: list[Problem] = []
    try:
        import jupytext  # noqa: F401

        have_jupytext = True
    except ImportError:
        have_jupytext = False
        if notes is not None:
            notes.append("jupytext is not installed: notebook pairs checked for existence only")
    for lesson in scan_lessons(lessons_dir):
        path = lesson.path

        def add(message: str, line: int = 0, path: Path = path) -> None:
            problems.append(Problem(path, line, message))

        for error in lesson.errors:
            add(error)
        if not lesson.front and not lesson.errors:
            add("no front matter (a '---' block with lesson, title, modules)")
        if lesson.front:
            raw_id = lesson.front.get("lesson")
            if raw_id is None:
                add("front matter: 'lesson' is missing")
            elif not isinstance(raw_id, str):
                add(f"front matter: 'lesson' must be a quoted string like \"1.3\", got {raw_id!r}")
            elif curriculum.module(raw_id) is None:
                add(f"front matter: lesson {raw_id!r} is not a module of the curriculum map")
            if not isinstance(lesson.front.get("title"), str) or not lesson.front["title"].strip():
                add("front matter: 'title' is missing or empty")
            mods = lesson.front.get("modules")
            if not isinstance(mods, list) or not all(isinstance(m, str) for m in mods):
                add("front matter: 'modules' must be a list of library module names")
        if have_jupytext:
            for message in notebook_sync_problems(path):
                add(message)
        elif not lesson.notebook.is_file():
            add(f"no paired notebook {lesson.notebook.name}")
        seen: dict[str, int] = {}
        for heading in lesson.headings:
            section = curriculum.section(heading.section)
            if section is None:
                add(f"heading {heading.section}: no such subsection in the curriculum map", heading.line)
            elif lesson.lesson_id is not None and section.module != lesson.lesson_id:
                add(
                    f"heading {heading.section} belongs to lesson {section.module}, not {lesson.lesson_id}",
                    heading.line,
                )
            if heading.section in seen:
                add(f"heading {heading.section} repeats line {seen[heading.section]}", heading.line)
            seen.setdefault(heading.section, heading.line)
    for widget in widgets:
        section = curriculum.section(widget.section)
        where = Path(widget.name)
        if section is None:
            problems.append(Problem(where, 0, f"widget declares unknown subsection {widget.section}"))
        elif section.interactives == 0:
            message = f"widget declares {widget.section}, which asks for no interactive"
            problems.append(Problem(where, 0, message))
    return problems


# ------------------------------------------------------------------------------------------------
# The command line
# ------------------------------------------------------------------------------------------------


def add_subparsers(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add ``lessons {list,coverage,check}`` to the ``tinylearn`` command's subparsers ``sub``."""
    lessons = sub.add_parser(
        "lessons",
        help="the curriculum map, lesson coverage and the lesson-format check",
        description="Compare the curriculum map with the lessons in lessons/ and the interactive "
        "widgets of tinylearn.viz.",
    )
    actions = lessons.add_subparsers(dest="lessons_command", required=True, metavar="ACTION")
    folder_help = "the lessons folder (default: $TINYLEARN_LESSONS, else the checkout's lessons/)"
    series_help = "only this series (1, 2 or 3)"

    listing = actions.add_parser("list", help="every module and subsection with its status")
    listing.add_argument("--dir", metavar="DIR", help=folder_help)
    listing.add_argument("--series", metavar="S", choices=("1", "2", "3"), help=series_help)

    cover = actions.add_parser(
        "coverage",
        help="how many subsections, interactives and notebooks are done, per series",
        description="Print, per series and in total, the subsections that have a lesson heading, the "
        "interactives that have a widget and the Colab notebooks that exist, then what is missing.",
    )
    cover.add_argument("--dir", metavar="DIR", help=folder_help)
    cover.add_argument("--series", metavar="S", choices=("1", "2", "3"), help=series_help)
    cover.add_argument("--missing", action="store_true", help="list every missing item, not a summary")
    cover.add_argument("--json", action="store_true", help="print JSON")

    check = actions.add_parser(
        "check",
        help="check the lesson files: front matter, notebook pairs, section headings",
        description="Exit status 1 when a lesson's front matter is invalid, its .ipynb pair is missing "
        "or out of sync, or a numbered heading is not a subsection of its lesson.",
    )
    check.add_argument("--dir", metavar="DIR", help=folder_help)
    lessons.set_defaults(handler=run)
    return lessons


def _folder(args: argparse.Namespace) -> Path:
    return Path(args.dir) if getattr(args, "dir", None) else default_lessons_dir()


def cmd_list(args: argparse.Namespace) -> int:
    """``tinylearn lessons list``: modules in order, their lesson files and each subsection's status."""
    cov = coverage(_folder(args))
    lessons = scan_lessons(cov.lessons_dir)
    for module in cov.curriculum.modules:
        if args.series and module.series != args.series:
            continue
        files = [
            lesson.path.name + (" + .ipynb" if lesson.notebook.is_file() else "")
            for lesson in lessons
            if lesson.lesson_id == module.id
        ]
        optional = " (optional)" if module.optional else ""
        print(f"{module.id:5s}{module.title}{optional}  —  {', '.join(files) or 'no lesson yet'}")
        for st in cov.select(module=module.id):
            mark = "[x]" if st.heading else "[ ]"
            extra = []
            if st.section.interactives:
                extra.append(f"interactives {st.interactives}/{st.section.interactives}")
            if st.section.notebook:
                extra.append("notebook " + ("yes" if st.notebook else "missing"))
            tail = f"  ({'; '.join(extra)})" if extra else ""
            print(f"     {mark} {st.section.id:7s}{st.section.title}{tail}")
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def cmd_coverage(args: argparse.Namespace) -> int:
    """``tinylearn lessons coverage``: per-series and total counts, then what is missing."""
    cov = coverage(_folder(args))
    if args.json:
        print(json.dumps(cov.to_json(args.series), indent=2))
        return 0
    chosen = [args.series] if args.series else list(cov.curriculum.series)
    print(f"Lesson coverage of the curriculum (lessons: {cov.lessons_dir})\n")
    print((f"{'':34s}" + "".join(f"{name:>13s}{'':6s}" for name in SERIES_KEYS)).rstrip())

    def row(label: str, counts: dict[str, Count]) -> None:
        cells = "".join(f"{c.have:>8d}/{c.total:<4d}{c.percent:>5.0f}%" for c in counts.values())
        print(f"{label:34s}{cells}")

    for s in chosen:
        row(f"Series {s}  {cov.curriculum.series[s]}", cov.counts(series=s))
    row("Total", _sum_counts(cov.counts(series=s) for s in chosen))

    missing = [st for s in chosen for st in cov.missing(s)]
    if not missing:
        print("\nNothing missing.")
        return 0
    if args.missing:
        print("\nMissing:")
    else:
        print("\nMissing, by module (--missing lists every item):")
    for module in cov.curriculum.modules:
        gaps = [st for st in missing if st.section.module == module.id]
        if not gaps:
            continue
        headings = sum(not st.heading for st in gaps)
        widgets = sum(st.section.interactives - st.interactives for st in gaps)
        notebooks = sum(st.section.notebook and not st.notebook for st in gaps)
        parts = [
            _plural(n, word)
            for n, word in ((headings, "subsection"), (widgets, "interactive"), (notebooks, "notebook"))
            if n
        ]
        print(f"  {module.id:5s}{module.title}: {', '.join(parts)}")
        if args.missing:
            for st in gaps:
                what = []
                if not st.heading:
                    what.append("heading")
                if st.interactives < st.section.interactives:
                    what.append(_plural(st.section.interactives - st.interactives, "interactive"))
                if st.section.notebook and not st.notebook:
                    what.append("notebook")
                print(f"       {st.section.id:7s}{st.section.title}: {', '.join(what)}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """``tinylearn lessons check``: print the problems; exit status 1 if there are any."""
    folder = _folder(args)
    notes: list[str] = []
    problems = check_lessons(folder, notes=notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for problem in problems:
        print(problem)
    count = len(scan_lessons(folder))
    if problems:
        summary = f"{_plural(len(problems), 'problem')} in {_plural(count, 'lesson')} ({folder})"
        print(summary, file=sys.stderr)
        return 1
    print(f"{_plural(count, 'lesson')} checked, no problems ({folder})")
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch ``tinylearn lessons ACTION``; return the exit status."""
    handlers = {"list": cmd_list, "coverage": cmd_coverage, "check": cmd_check}
    return handlers[args.lessons_command](args)
