"""The lesson map (``tinylearn/curriculum.toml``), lesson coverage and the lesson-format check.

The map is checked against ``../shared/CURRICULUM.md`` when it is there (every ``### N.N.N``
subsection, its **Interactive** count and its **Colab Notebook**); coverage and the check run on a
temporary lessons folder holding one fake lesson, its jupytext pair and one fake widget; the real
repository's coverage is pinned as "at least" numbers that may only grow.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from tinylearn import lessons
from tinylearn.lessons import Count
from tinylearn.viz import registry

REPO = Path(__file__).resolve().parents[1]
CURRICULUM_MD = REPO.parent / "shared" / "CURRICULUM.md"

# Curriculum totals per series: (subsections, interactives, Colab notebooks).
SERIES_TOTALS = {"1": (49, 40, 4), "2": (44, 20, 2), "3": (41, 12, 3)}
SERIES_1_CORE = [f"1.{m}" for m in range(1, 8)]  # lessons 1.1-1.7, the first milestone of issue 4


# ------------------------------------------------------------------------------------------------
# The curriculum map against CURRICULUM.md
# ------------------------------------------------------------------------------------------------


def parse_curriculum_md(text: str) -> dict[str, dict[str, object]]:
    """Independent count from CURRICULUM.md: section -> {interactives, notebook, topics, module title}."""
    sections: dict[str, dict[str, object]] = {}
    current: dict[str, object] | None = None
    for line in text.splitlines():
        if line.startswith("# Future Topics"):
            break
        heading = re.match(r"^### (\d+\.\d+\.\d+)\s", line)
        if heading:
            current = {"interactives": 0, "notebook": False, "topics": 0}
            sections[heading.group(1)] = current
            continue
        if current is None:
            continue
        if line.startswith("#### "):
            current["topics"] += 1  # type: ignore[operator]
        current["interactives"] += len(re.findall(r"\*\*Interactive( breakdown)?:\*\*", line))  # type: ignore[operator]
        if "**Colab Notebook:**" in line:
            current["notebook"] = True
    return sections


@pytest.fixture(scope="module")
def curriculum_md() -> dict[str, dict[str, object]]:
    if not CURRICULUM_MD.is_file():
        pytest.skip(f"{CURRICULUM_MD} is not here (a checkout without ../shared)")
    return parse_curriculum_md(CURRICULUM_MD.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def curriculum() -> lessons.Curriculum:
    return lessons.load_curriculum()


def test_map_has_exactly_the_curriculum_subsections(curriculum, curriculum_md):
    assert [s.id for s in curriculum.sections] == list(curriculum_md)


def test_map_interactive_and_notebook_counts_match_the_curriculum(curriculum, curriculum_md):
    wrong = [
        (
            s.id,
            s.interactives,
            s.notebook,
            curriculum_md[s.id]["interactives"],
            curriculum_md[s.id]["notebook"],
        )
        for s in curriculum.sections
        if (s.interactives, s.notebook)
        != (curriculum_md[s.id]["interactives"], curriculum_md[s.id]["notebook"])
    ]
    assert wrong == []


def test_map_groups_every_unnumbered_topic(curriculum, curriculum_md):
    assert {s.id: len(s.topics) for s in curriculum.sections} == {
        sid: info["topics"] for sid, info in curriculum_md.items()
    }


def test_map_modules_match_the_curriculum_modules(curriculum):
    if not CURRICULUM_MD.is_file():
        pytest.skip(f"{CURRICULUM_MD} is not here")
    modules = re.findall(r"^## Module (\d+\.\d+):", CURRICULUM_MD.read_text(encoding="utf-8"), re.M)
    assert [m.id for m in curriculum.modules] == modules


def test_map_series_totals(curriculum):
    for series, (n_sections, n_interactives, n_notebooks) in SERIES_TOTALS.items():
        chosen = [s for s in curriculum.sections if s.series == series]
        assert len(chosen) == n_sections
        assert sum(s.interactives for s in chosen) == n_interactives
        assert sum(s.notebook for s in chosen) == n_notebooks


def test_map_every_module_names_a_title_and_the_library_modules_it_adds(curriculum):
    assert set(curriculum.series) == {"1", "2", "3"}
    for module in curriculum.modules:
        assert module.title and module.adds, module.id
        assert all(s.title for s in module.sections), module.id
    assert [m.id for m in curriculum.modules if m.optional] == ["3.9"]


def test_packaged_map_and_lessons_copy_are_identical():
    copy = REPO / "lessons" / "curriculum.toml"
    if not copy.is_file():
        pytest.skip("no lessons/ folder (not a source checkout)")
    assert copy.read_text(encoding="utf-8") == lessons.curriculum_text(), (
        "lessons/curriculum.toml differs from tinylearn/curriculum.toml: edit the packaged one, then "
        "cp tinylearn/curriculum.toml lessons/curriculum.toml"
    )


def test_load_curriculum_rejects_a_misplaced_section(tmp_path):
    bad = tmp_path / "map.toml"
    bad.write_text(
        '[[series]]\nid = "1"\ntitle = "x"\n[[modules]]\nid = "1.1"\ntitle = "m"\n'
        'sections = [{ id = "1.2.1", title = "wrong module" }]\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="misplaced"):
        lessons.load_curriculum(bad)


# ------------------------------------------------------------------------------------------------
# The widget registry
# ------------------------------------------------------------------------------------------------


def test_interactive_decorator_records_and_returns_the_function():
    from tinylearn import viz

    assert viz.interactive is registry.interactive

    @viz.interactive(section="1.1.5", title="step size slider")
    def slider(lr: float = 0.1) -> float:
        return lr * 2

    try:
        assert slider(0.5) == 1.0
        [spec] = [s for s in registry.registered("1.1.5") if s.func is slider]
        assert spec.title == "step size slider" and spec.name.endswith("slider")
    finally:
        registry.unregister(slider)
    assert all(s.func is not slider for s in registry.registered())


@pytest.mark.parametrize("section", ["1.1", "x.1.2", "", "1.1.2 "])
def test_interactive_decorator_rejects_a_bad_section(section):
    with pytest.raises(ValueError, match=r"1\.1\.2"):
        registry.interactive(section=section, title="t")


# ------------------------------------------------------------------------------------------------
# A fake lessons folder
# ------------------------------------------------------------------------------------------------

FAKE_LESSON = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
lesson: "1.1"
title: Learning as fitting a function
modules: [tinylearn.data]
---

# Learning as fitting a function

## 1.1.2 A line through points

A line has a slope and an intercept.

```{code-cell} ipython3
# 1.2.1 this comment is code, not a heading
slope, intercept = 2.0, 1.0
```

## 1.1.6 The fit in plain NumPy

```{code-cell} ipython3
import numpy as np
np.polyfit([0, 1, 2], [1, 3, 5], 1)
```
"""


def write_lesson(
    folder: Path, name: str = "1.1-learning.md", text: str = FAKE_LESSON, pair: bool = True
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / name
    md.write_text(text, encoding="utf-8")
    if pair:
        jupytext = pytest.importorskip("jupytext")
        jupytext.write(jupytext.read(md), md.with_suffix(".ipynb"))
    return md


@pytest.fixture
def fake_widget(monkeypatch):
    # Alone in an empty registry: the real widgets (lesson 1.1's, ...) must not change these counts.
    monkeypatch.setattr(registry, "_REGISTRY", {})

    @registry.interactive(section="1.1.2", title="drag the line")
    def drag_line(slope: float = 1.0) -> float:
        return slope

    yield registry.registered("1.1.2")[-1]
    registry.unregister(drag_line)


@pytest.fixture
def lesson_dir(tmp_path):
    pytest.importorskip("jupytext")
    folder = tmp_path / "lessons"
    write_lesson(folder)
    (folder / "README.md").write_text("# Lessons\n\n## 9.9.9 not a lesson file\n", encoding="utf-8")
    return folder


def test_read_lesson_finds_front_matter_and_numbered_headings_outside_code(lesson_dir):
    [lesson] = lessons.scan_lessons(lesson_dir)
    assert lesson.lesson_id == "1.1" and lesson.title == "Learning as fitting a function"
    assert lesson.front["modules"] == ["tinylearn.data"]
    assert lesson.sections == ["1.1.2", "1.1.6"]
    assert lesson.headings[0].text == "A line through points"
    assert lesson.notebook.is_file()


def test_front_matter_without_pyyaml(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_yaml(name, *args, **kwargs):
        if name == "yaml":
            raise ImportError("no yaml here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_yaml)
    front, start = lessons.parse_front_matter(FAKE_LESSON)
    assert front is not None
    assert (front["lesson"], front["title"], front["modules"]) == (
        "1.1",
        "Learning as fitting a function",
        ["tinylearn.data"],
    )
    assert FAKE_LESSON.splitlines()[start - 1] == "---"


def test_coverage_of_a_fake_lesson(lesson_dir, fake_widget):
    cov = lessons.coverage(lesson_dir, widgets=[fake_widget])
    assert cov.counts(series="1") == {
        "subsections": Count(2, 49),
        "interactives": Count(1, 40),
        "notebooks": Count(1, 4),
    }
    assert cov.counts(series="2") == {
        "subsections": Count(0, 44),
        "interactives": Count(0, 20),
        "notebooks": Count(0, 2),
    }
    assert cov.counts()["subsections"] == Count(2, 134)
    assert cov.counts(module="1.1") == {
        "subsections": Count(2, 6),
        "interactives": Count(1, 6),
        "notebooks": Count(1, 1),
    }
    missing = {st.section.id for st in cov.missing("1")}
    assert "1.1.2" not in missing and "1.1.6" not in missing and "1.1.3" in missing


def test_coverage_discovers_registered_widgets_and_caps_extras(lesson_dir, fake_widget):
    cov = lessons.coverage(lesson_dir)  # widgets from the registry: the fake one is registered
    assert cov.counts(module="1.1")["interactives"] == Count(1, 6)
    extra = registry.InteractiveSpec("1.1.2", "a second one", "x.second", lambda: None)
    cov = lessons.coverage(lesson_dir, widgets=[fake_widget, extra])
    assert cov.counts(module="1.1")["interactives"] == Count(1, 6)  # 1.1.2 asks for one


def test_no_notebook_no_notebook_coverage(tmp_path):
    folder = tmp_path / "lessons"
    write_lesson(folder, pair=False)
    cov = lessons.coverage(folder, widgets=[])
    assert cov.counts(series="1")["notebooks"] == Count(0, 4)
    assert cov.counts(series="1")["subsections"] == Count(2, 49)


def test_check_passes_on_a_good_lesson(lesson_dir, fake_widget):
    assert lessons.check_lessons(lesson_dir, widgets=[fake_widget]) == []


def test_check_fails_on_a_modified_notebook(lesson_dir):
    import nbformat

    ipynb = lesson_dir / "1.1-learning.ipynb"
    nb = nbformat.read(ipynb, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.source = code.source.replace("2.0", "3.0")
    nbformat.write(nb, ipynb)
    problems = lessons.check_lessons(lesson_dir, widgets=[])
    assert len(problems) == 1 and "out of sync" in problems[0].message and "cell" in problems[0].message


def test_check_ignores_outputs_and_metadata(lesson_dir):
    import nbformat

    ipynb = lesson_dir / "1.1-learning.ipynb"
    nb = nbformat.read(ipynb, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="hello\n")]
    code.execution_count = 3
    code.metadata["tags"] = ["hide-input"]
    nbformat.write(nb, ipynb)
    assert lessons.check_lessons(lesson_dir, widgets=[]) == []


def test_check_fails_on_a_missing_notebook_and_an_extra_cell(tmp_path):
    folder = tmp_path / "lessons"
    md = write_lesson(folder, pair=False)
    [problem] = lessons.check_lessons(folder, widgets=[])
    assert "no paired notebook" in problem.message
    write_lesson(folder)
    md.write_text(FAKE_LESSON + "\n```{code-cell} ipython3\nprint('new')\n```\n", encoding="utf-8")
    [problem] = lessons.check_lessons(folder, widgets=[])
    assert "out of sync" in problem.message and "cells" in problem.message


def test_check_reports_front_matter_and_heading_problems(tmp_path):
    bad_front = (
        FAKE_LESSON.replace('lesson: "1.1"', "lesson: 1.1")
        .replace("title: Learning as fitting a function\n", "")
        .replace("modules: [tinylearn.data]", "modules: tinylearn.data")
    )
    bad_headings = (
        FAKE_LESSON.replace("## 1.1.6 The fit", "## 1.2.1 The fit")
        + "\n## 9.9.9 Nowhere\n\n### 1.1.2 Again\n"
    )
    folder = tmp_path / "lessons"
    write_lesson(folder, name="a.md", text=bad_front)
    write_lesson(folder, name="b.md", text=bad_headings)
    messages = [p.message for p in lessons.check_lessons(folder, widgets=[])]
    assert any("quoted string" in m for m in messages)
    assert any("'title'" in m for m in messages)
    assert any("'modules'" in m for m in messages)
    assert any("9.9.9: no such subsection" in m for m in messages)
    assert any("1.2.1 belongs to lesson 1.2" in m for m in messages)
    assert any("1.1.2 repeats" in m for m in messages)


def test_check_reports_a_file_without_front_matter_and_an_unknown_lesson(tmp_path):
    folder = tmp_path / "lessons"
    write_lesson(folder, name="bare.md", text="# No front matter\n", pair=False)
    write_lesson(folder, name="x.md", text=FAKE_LESSON.replace('"1.1"', '"7.7"'))
    messages = [str(p) for p in lessons.check_lessons(folder, widgets=[])]
    assert any("bare.md" in m and "no front matter" in m for m in messages)
    assert any("x.md" in m and "'7.7' is not a module" in m for m in messages)


def test_check_reports_widgets_for_sections_without_interactives(tmp_path):
    widgets = [
        registry.InteractiveSpec("1.1.1", "t", "m.no_interactive_here", lambda: None),
        registry.InteractiveSpec("9.9.9", "t", "m.unknown", lambda: None),
    ]
    messages = [p.message for p in lessons.check_lessons(tmp_path, widgets=widgets)]
    assert messages == [
        "widget declares 1.1.1, which asks for no interactive",
        "widget declares unknown subsection 9.9.9",
    ]


# ------------------------------------------------------------------------------------------------
# The command line handlers
# ------------------------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tinylearn")
    sub = parser.add_subparsers(dest="command", required=True)
    lessons.add_subparsers(sub)
    return parser.parse_args(argv)


def test_cli_list(lesson_dir, fake_widget, capsys):
    args = parse(["lessons", "list", "--dir", str(lesson_dir), "--series", "1"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "1.1-learning.md + .ipynb" in out
    assert "[x] 1.1.2" in out and "interactives 1/1" in out
    assert "[ ] 1.1.3" in out and "notebook yes" in out
    assert re.search(r"^1\.8  Convolutional", out, re.M) and not re.search(r"^2\.1 ", out, re.M)


def test_cli_coverage_text_and_missing(lesson_dir, fake_widget, capsys):
    assert lessons.run(parse(["lessons", "coverage", "--dir", str(lesson_dir)])) == 0
    out = capsys.readouterr().out
    assert re.search(r"Series 1 .*\s2/49\s+4%\s+1/40\s+\d%\s+1/4\s+25%", out)
    assert re.search(r"Total .*\s2/134\s+\d%\s+1/72\s+1%\s+1/9\s+11%", out)
    assert "1.1  Learning as fitting a function: 4 subsections, 5 interactives\n" in out
    assert "1.1.3" not in out  # the summary is per module
    assert (
        lessons.run(parse(["lessons", "coverage", "--dir", str(lesson_dir), "--missing", "--series", "1"]))
        == 0
    )
    out = capsys.readouterr().out
    assert "1.1.3  Scoring a model with a loss: heading, 2 interactives" in out
    assert "Series 2" not in out and "2.1.1" not in out


def test_cli_coverage_json(lesson_dir, fake_widget, capsys):
    assert lessons.run(parse(["lessons", "coverage", "--dir", str(lesson_dir), "--json"])) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["series"]["1"]["subsections"] == {"have": 2, "total": 49, "percent": 4.1}
    assert data["total"]["notebooks"] == {"have": 1, "total": 9, "percent": 11.1}
    missing = {m["section"]: m for m in data["missing"]}
    assert "1.1.2" not in missing and missing["1.7.5"]["notebook"] is False
    assert len(missing) == 134 - 2


def test_cli_check_exit_codes(lesson_dir, fake_widget, capsys):
    assert lessons.run(parse(["lessons", "check", "--dir", str(lesson_dir)])) == 0
    assert "1 lesson checked, no problems" in capsys.readouterr().out
    (lesson_dir / "1.1-learning.ipynb").unlink()
    assert lessons.run(parse(["lessons", "check", "--dir", str(lesson_dir)])) == 1
    captured = capsys.readouterr()
    assert "no paired notebook 1.1-learning.ipynb" in captured.out
    assert "1 problem in 1 lesson" in captured.err


def test_default_lessons_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYLEARN_LESSONS", str(tmp_path))
    assert lessons.default_lessons_dir() == tmp_path
    monkeypatch.delenv("TINYLEARN_LESSONS")
    assert lessons.default_lessons_dir().name == "lessons"


# ------------------------------------------------------------------------------------------------
# The real repository's coverage: pinned, it may only grow
# ------------------------------------------------------------------------------------------------

# The numbers of the repository as it is; raise them as lessons, widgets and notebooks land.
# Count(have, total) >= Count(h, t) means: at least h covered, out of exactly t.
PINNED = {
    "1": {"subsections": Count(49, 49), "interactives": Count(40, 40), "notebooks": Count(4, 4)},
    "2": {"subsections": Count(0, 44), "interactives": Count(0, 20), "notebooks": Count(0, 2)},
    "3": {"subsections": Count(0, 41), "interactives": Count(0, 12), "notebooks": Count(0, 3)},
}

# Series 1, lessons 1.1-1.7, is complete (issue 4): every subsection, interactive and notebook.
SERIES_1_CORE_PINNED = {
    "subsections": Count(43, 43),
    "interactives": Count(35, 35),
    "notebooks": Count(3, 3),
}


@pytest.fixture(scope="module")
def real_coverage() -> lessons.Coverage:
    return lessons.coverage(REPO / "lessons")


@pytest.mark.parametrize("series", ["1", "2", "3"])
def test_real_coverage_never_drops(real_coverage, series):
    counts = real_coverage.counts(series=series)
    for key, pinned in PINNED[series].items():
        assert counts[key] >= pinned, f"series {series} {key}: {counts[key]} < pinned {pinned}"


def test_real_coverage_of_series_1_lessons_1_1_to_1_7(real_coverage):
    counts = lessons._sum_counts(real_coverage.counts(module=m) for m in SERIES_1_CORE)
    for key, pinned in SERIES_1_CORE_PINNED.items():
        assert counts[key] >= pinned, f"lessons 1.1-1.7 {key}: {counts[key]} < pinned {pinned}"


def test_real_lessons_pass_the_check():
    pytest.importorskip("jupytext")
    problems = lessons.check_lessons(REPO / "lessons")
    assert [str(p) for p in problems] == []


def test_lessons_install_from_the_configured_repository():
    """The Colab install line of every lesson names ``lessons.COLAB_REPO`` (the one place to change the
    repository), and every "Open in Colab" link is built from it."""
    for path in sorted(lessons.default_lessons_dir().glob("*.md")):
        if path.name in lessons.NOT_LESSONS:
            continue
        text = path.read_text(encoding="utf-8")
        assert f"git+https://github.com/{lessons.COLAB_REPO}" in text, f"{path.name}: no Colab install line"
        for repo in re.findall(r"git\+https://github\.com/([\w.-]+/[\w.-]+)", text):
            assert repo == lessons.COLAB_REPO, f"{path.name}: installs from {repo}, not {lessons.COLAB_REPO}"
        if "colab.research.google.com/github" in text:
            assert "lessons.COLAB_REPO" in text and "lessons.COLAB_BRANCH" in text, path.name


def test_fast_switch(monkeypatch):
    for value, expected in [("", False), ("0", False), ("false", False), ("off", False), ("1", True),
                            ("yes", True)]:  # fmt: skip
        monkeypatch.setenv(lessons.FAST_ENV, value)
        assert lessons.fast() is expected, value
    monkeypatch.delenv(lessons.FAST_ENV)
    assert lessons.fast() is False
