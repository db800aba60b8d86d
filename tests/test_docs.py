"""The documentation site builds clean (``sphinx-build -W``) and serves its own JavaScript.

One build into a temporary folder, then checks on the HTML: the pages exist (home, API reference
for every module, examples, lessons), no page loads a script or a stylesheet from another site, and
MathJax is loaded from the site itself. The lessons run as the build configures them (set
``TINYLEARN_DOCS_EXECUTE=off`` to skip running them).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NEEDED = ["sphinx", "myst_nb", "furo", "sphinx_copybutton", "sphinx_design"]
EXTERNAL = re.compile(
    r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//[^\"'\s>]+"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^\"'\s>]+"
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//[^\"')\s]+"
    r"|url\([\"']?(?:https?:)?//[^\"')\s]+",
    re.IGNORECASE,
)
API_MODULES = [
    "tinylearn", "tinylearn.autograd", "tinylearn.gradcheck", "tinylearn.nn", "tinylearn.nn.functional",
    "tinylearn.nn.init", "tinylearn.optim", "tinylearn.optim.lr_scheduler", "tinylearn.amp", "tinylearn.data",
    "tinylearn.io", "tinylearn.viz", "tinylearn.models",
]  # fmt: skip


def _load_watchdog():
    spec = importlib.util.spec_from_file_location("docs_watchdog", DOCS / "watchdog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


watchdog = _load_watchdog()


def external_urls(text: str) -> list[str]:
    return EXTERNAL.findall(text)


def test_external_url_pattern():
    """The check itself: it catches CDN scripts, stylesheets and CSS imports, and lets local ones pass."""
    assert external_urls('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>')
    assert external_urls('<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">')
    assert external_urls("@import url('https://fonts.googleapis.com/css2');")
    assert external_urls("<SCRIPT defer src=http://example.org/a.js>")
    assert not external_urls('<script defer src="_static/mathjax/tex-chtml.js?v=1"></script>')
    assert not external_urls('<a href="https://github.com/">GitHub</a>')
    assert not external_urls('<link rel="index" title="Index" href="genindex.html">')


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the docs extra is not installed (missing {', '.join(missing)}): pip install '.[docs]'")
    if not (DOCS / "_static" / "mathjax" / "tex-chtml.js").is_file() and shutil.which("npm") is None:
        pytest.skip("npm is needed to fetch MathJax for the docs (Debian: apt-get install -y npm)")
    out = tmp_path_factory.mktemp("docs")
    html = out / "html"
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               "-d", str(out / "doctrees"), str(DOCS), str(html)]  # fmt: skip
    log = out / "build.log"
    with log.open("w") as sink:  # under the watchdog: a lesson whose kernel stalls is run again
        env = {**os.environ, "TQDM_DISABLE": "1"}
        status, stalls = watchdog.run(command, idle=120, retries=1, cwd=ROOT, env=env, stdout=sink,
                                      stderr=subprocess.STDOUT)  # fmt: skip
    output = log.read_text(errors="replace")
    assert status == 0, f"sphinx-build failed ({stalls} stalls cut by the watchdog):\n{output[-12000:]}"
    return html


# a command that stalls (sleeps, using no CPU) the first time it runs and succeeds the second,
# its child stalling too (as a Jupyter kernel would, in a session of its own)
STALLS_ONCE = textwrap.dedent("""
    import pathlib, subprocess, sys, time
    marker = pathlib.Path(sys.argv[1])
    if marker.exists():
        print("second run"); sys.exit(0)
    marker.write_text("x")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    pathlib.Path(sys.argv[2]).write_text(str(child.pid))
    time.sleep(600)
""")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="the watchdog reads /proc (Linux)")
def test_the_watchdog_cuts_a_stall_kills_its_processes_and_runs_again(tmp_path: Path):
    marker, child = tmp_path / "ran", tmp_path / "child.pid"
    started = time.monotonic()
    out = tmp_path / "out.txt"
    with out.open("w") as sink:
        status, stalls = watchdog.run([sys.executable, "-c", STALLS_ONCE, str(marker), str(child)], idle=3,
                                      retries=1, poll=0.5, stdout=sink, stderr=subprocess.STDOUT)  # fmt: skip
    assert (status, stalls) == (0, 1) and "second run" in out.read_text()
    assert time.monotonic() - started < 60
    time.sleep(0.5)
    stat = Path(f"/proc/{child.read_text()}/stat")  # the child was killed too (gone, or a zombie)
    assert not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="the watchdog reads /proc (Linux)")
def test_the_watchdog_gives_up_after_its_retries_and_leaves_busy_commands_alone(tmp_path: Path):
    stuck = [sys.executable, "-c", "import time; time.sleep(600)"]
    status, stalls = watchdog.run(stuck, idle=2, retries=1, poll=0.5)
    assert status == -9 and stalls == 2  # killed twice, then reported as killed
    busy = [sys.executable, "-c", "import time\nend = time.time() + 4\nwhile time.time() < end: pass"]
    assert watchdog.run(busy, idle=2, retries=0, poll=0.5) == (0, 0)  # 4 s of work is not a stall
    status = subprocess.run([sys.executable, str(DOCS / "watchdog.py"), "--idle", "2", "--retries", "0", "--",
                             *stuck], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert status.returncode == 137 and "used no CPU for" in status.stderr


@pytest.mark.slow
def test_pages_exist(site: Path):
    for page in ["index", "installation", "lessons", "examples", "design", "api/index", "api/all",
                 "api/generated/tinylearn.Tensor", "api/generated/tinylearn.nn.Linear"]:  # fmt: skip
        assert (site / f"{page}.html").is_file(), page
    for module in API_MODULES:
        assert (site / "api" / f"{module}.html").is_file(), module
    if (ROOT / "benchmarks" / "README.md").is_file():
        assert (site / "benchmarks.html").is_file()
    # every public name of a module has its page, linked from the module's page
    nn_page = (site / "api" / "tinylearn.nn.html").read_text(encoding="utf-8")
    assert 'href="generated/tinylearn.nn.Linear.html' in nn_page
    # Tensor and tensor (and Device/device) differ only by case: distinct files on any file system
    assert (site / "api/generated/tinylearn.tensor-function.html").is_file()


@pytest.mark.slow
def test_examples_and_lessons_are_listed(site: Path):
    examples = (site / "examples.html").read_text(encoding="utf-8")
    for script in sorted((ROOT / "examples").glob("*.py")):
        assert script.name in examples, script.name
    lessons = (site / "lessons.html").read_text(encoding="utf-8")
    for lesson in sorted((ROOT / "lessons").glob("*.md")):
        if lesson.name != "README.md":
            assert f'href="lessons/{lesson.stem}.html' in lessons, lesson.name
            assert (site / "lessons" / f"{lesson.stem}.html").is_file()


@pytest.mark.slow
def test_nothing_is_loaded_from_another_site(site: Path):
    offenders = {}
    for path in [*site.rglob("*.html"), *(site / "_static").rglob("*.css")]:
        if "mathjax" in path.parts:
            continue
        found = external_urls(path.read_text(encoding="utf-8", errors="replace"))
        if found:
            offenders[str(path.relative_to(site))] = found[:3]
    assert not offenders, f"pages load scripts or styles from other sites: {offenders}"


@pytest.mark.slow
def test_mathjax_is_served_locally(site: Path):
    lessons = (site / "lessons.html").read_text(encoding="utf-8")  # its format section shows math
    local = re.search(r'<script[^>]*src="_static/mathjax/tex-chtml\.js', lessons)
    assert local, "MathJax is not loaded from the site"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
    assert (site / "_static" / "mathjax" / "input" / "tex" / "extensions" / "boldsymbol.js").is_file()
    assert "cdn.jsdelivr" not in lessons


@pytest.mark.slow
def test_lesson_widgets_are_served_locally(site: Path):
    """An executed lesson saves its widgets' state; the page draws them with the embedder of the site."""
    page = (site / "lessons" / "1.1-learning-problem.html").read_text(encoding="utf-8")
    assert "application/vnd.jupyter.widget-state+json" in page, "the lesson saved no widget state"
    assert re.search(r'<script[^>]*src="\.\./_static/widgets/embed\.js', page), "no local widget embedder"
    assert (site / "_static" / "widgets" / "embed.js").is_file()
    assert "require.min.js" not in page and "cdn.jsdelivr" not in page


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


@pytest.mark.slow
def test_lesson_page_renders_in_headless_chromium(site: Path, tmp_path: Path):
    """Open lesson 1.1 in headless Chromium, let its scripts run, and read the rendered DOM: the math
    was typeset by MathJax (no raw TeX delimiters left in the text), the figures are there (images
    whose files exist), and the saved widgets were drawn."""
    browser = chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install -y chromium); .ci/run installs it")
    page = site / "lessons" / "1.1-learning-problem.html"
    command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
               "--virtual-time-budget=20000", "--dump-dom", page.as_uri()]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    dom = result.stdout
    assert "<mjx-container" in dom, "MathJax typeset nothing"
    assert dom.count("<mjx-container") >= 20, dom.count("<mjx-container")
    body = dom.split("<article", 1)[-1]
    text = re.sub(r"<(script|style|mjx-assistive-mml)\b.*?</\1>", "", body, flags=re.S)
    text = re.sub(r"<[^>]+>", "", text)
    for raw in ("\\(", "\\[", "$$"):
        assert raw not in text, (
            f"raw TeX {raw!r} left in the rendered page: …{text[text.find(raw) - 80 :][:200]}…"
        )
    images = re.findall(r'<img[^>]*\bsrc="([^"]+)"', body)
    figures = [src for src in images if src.endswith(".png") or src.startswith("data:image/png")]
    assert len(figures) >= 6, f"expected the lesson's figures, found {images}"
    for src in figures:
        if not src.startswith("data:"):
            assert (page.parent / src).resolve().is_file(), src
    assert "widget-slider" in dom or "jupyter-widgets" in dom, "the saved widgets were not drawn"
