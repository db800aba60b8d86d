"""lessons/README.md is the map from lesson to library code, tests and examples: it must name
every module of the curriculum map, and every file it names must exist."""

import re
from pathlib import Path

from tinylearn import lessons

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "lessons" / "README.md").read_text(encoding="utf-8")


def test_every_curriculum_module_has_a_row() -> None:
    rows = set(re.findall(r"^\| \[?(\d\.\d) ", README, flags=re.MULTILINE))
    ids = {m.id for m in lessons.load_curriculum().modules}
    assert rows == ids


def test_every_named_file_exists() -> None:
    named = re.findall(r"`((?:tinylearn|tests|examples)/[\w/.]+)`", README)
    assert named, "the map names no files"
    missing = [p for p in named if not (ROOT / p).exists()]
    assert not missing, f"lessons/README.md names files that do not exist: {missing}"


def test_lesson_links_point_to_the_lessons() -> None:
    """A written lesson's row links its file; every lesson file has its linked row."""
    linked = dict(re.findall(r"^\| \[(\d\.\d) [^\]]*\]\(([\w.-]+\.md)\)", README, flags=re.MULTILINE))
    written = {lesson.lesson_id: lesson.path.name for lesson in lessons.scan_lessons()}
    assert linked == written
