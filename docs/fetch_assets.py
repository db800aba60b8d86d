"""Fetch the JavaScript the site serves itself, so that the built docs work offline.

MathJax 3 comes from the npm package ``mathjax`` (``npm install`` into ``docs/_build/npm``) and is
copied into ``docs/_static/mathjax/`` (git-ignored), which ``conf.py`` points ``mathjax_path`` at.
The ipywidgets embedder (the widgets saved in an executed lesson, drawn without a kernel) comes from
the npm package ``@jupyter-widgets/html-manager``: its ``dist/`` (``embed.js`` and the fonts it
loads) is copied into ``docs/_static/widgets/`` (git-ignored), which ``conf.py`` gives to myst-nb as
``nb_ipywidgets_js`` instead of its CDN default.
Run it directly (``python docs/fetch_assets.py [--force]``); ``conf.py`` and ``docs/build.sh`` run
it when the files are missing. It needs ``npm`` (Debian: ``apt-get install -y npm``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
NPM_PREFIX = DOCS / "_build" / "npm"
MATHJAX_DIR = DOCS / "_static" / "mathjax"
MATHJAX_ENTRY = "tex-chtml.js"
MATHJAX_SPEC = "mathjax@3.2.2"
# The combined TeX → CommonHTML component and what it loads on demand: TeX extensions (autoload),
# the CommonHTML fonts, the context menu and the accessibility tools (which use sre).
MATHJAX_PARTS = [MATHJAX_ENTRY, "input/tex", "output/chtml", "ui", "a11y", "sre", "adaptors"]


WIDGETS_DIR = DOCS / "_static" / "widgets"
WIDGETS_ENTRY = "embed.js"
WIDGETS_SPEC = "@jupyter-widgets/html-manager@1.0.15"  # the embedder of ipywidgets 8


def widgets_ready() -> bool:
    return (WIDGETS_DIR / WIDGETS_ENTRY).is_file()


def _npm_install(spec: str, what: str) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed to fetch {what} for the docs (Debian: apt-get install -y npm)")
    NPM_PREFIX.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "install", "--prefix", str(NPM_PREFIX), "--no-audit", "--no-fund", "--no-save",
                    "--loglevel=error", spec], check=True)  # fmt: skip
    return NPM_PREFIX / "node_modules" / spec.rsplit("@", 1)[0]


def fetch_widgets(force: bool = False) -> Path:
    """Install the ipywidgets embedder and copy its bundle and fonts; return the folder."""
    if widgets_ready() and not force:
        return WIDGETS_DIR
    package = _npm_install(WIDGETS_SPEC, "the ipywidgets embedder")
    if WIDGETS_DIR.exists():
        shutil.rmtree(WIDGETS_DIR)
    shutil.copytree(package / "dist", WIDGETS_DIR, ignore=shutil.ignore_patterns("*.map", "*amd*"))
    version = json.loads((package / "package.json").read_text())["version"]
    (WIDGETS_DIR / "VERSION").write_text(version + "\n")
    return WIDGETS_DIR


def mathjax_ready() -> bool:
    return (MATHJAX_DIR / MATHJAX_ENTRY).is_file()


def fetch_mathjax(force: bool = False) -> Path:
    """Install the npm package and copy the parts the site loads; return the folder."""
    if mathjax_ready() and not force:
        return MATHJAX_DIR
    package = _npm_install(MATHJAX_SPEC, "MathJax")
    es5 = package / "es5"
    if MATHJAX_DIR.exists():
        shutil.rmtree(MATHJAX_DIR)
    MATHJAX_DIR.mkdir(parents=True)
    for part in MATHJAX_PARTS:
        source, target = es5 / part, MATHJAX_DIR / part
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    shutil.copy2(package / "LICENSE", MATHJAX_DIR / "LICENSE")
    version = json.loads((package / "package.json").read_text())["version"]
    (MATHJAX_DIR / "VERSION").write_text(version + "\n")
    return MATHJAX_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="fetch again even if the files are there")
    args = parser.parse_args(argv)
    folder = fetch_mathjax(force=args.force)
    print(f"MathJax {(folder / 'VERSION').read_text().strip()} in {folder.relative_to(DOCS.parent)}")
    folder = fetch_widgets(force=args.force)
    print(f"html-manager {(folder / 'VERSION').read_text().strip()} in {folder.relative_to(DOCS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
