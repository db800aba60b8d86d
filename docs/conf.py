"""Sphinx configuration of the tinylearn site (build it with ``bash docs/build.sh``).

Environment:
    TINYLEARN_DOCS_EXECUTE=off   render the lessons with the outputs stored in them, without running
                                 them (default: run them, caching the results in ``_build/.jupyter_cache``
                                 so that only changed lessons run again)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the tinylearn being documented, installed or not
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(DOCS))

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # this process draws no windows (autodoc imports modules that import pyplot)
# The lesson kernels inherit this environment: their figures must reach the notebook's outputs, which
# MPLBACKEND=Agg (set by CI) would prevent, so they get the inline backend whatever the caller set.
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"

from fetch_assets import (  # noqa: E402
    MATHJAX_ENTRY,
    WIDGETS_ENTRY,
    fetch_mathjax,
    fetch_widgets,
    mathjax_ready,
    widgets_ready,
)

import tinylearn  # noqa: E402

project = "tinylearn"
author = "tinylearn developers"
copyright = "tinylearn developers"  # noqa: A001
release = version = tinylearn.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "sphinx_design",
    "tinylearn_docs",  # generated API pages, the examples gallery, optional toctrees (docs/_ext)
]

root_doc = "index"
exclude_patterns = [
    "_build", "_static/mathjax", "_static/widgets", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
    "lessons/README.md",  # the lesson map, for the repository; the lessons page says the same
    "lessons/*.ipynb",  # the jupytext pairs of lessons/*.md (Colab's copy), the same lessons
]  # fmt: skip
if not (ROOT / "benchmarks" / "README.md").is_file():
    exclude_patterns.append("benchmarks.md")  # the index's optional-toctree then leaves it out
templates_path = ["_templates"]

# -- MyST and notebooks --------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3
_execute = os.environ.get("TINYLEARN_DOCS_EXECUTE", "cache").strip().lower()
# The lessons run in FAST mode for the docs (seconds each) unless TINYLEARN_FAST is set otherwise;
# the kernels inherit this environment.
os.environ.setdefault("TINYLEARN_FAST", "1")
# Lesson-sized matrices are small: one BLAS thread per kernel is faster than threads fighting over
# them (measured: a FAST lesson took 3 min instead of 36 s with OpenBLAS's default threads on a
# loaded 2-core machine), and it leaves the other core to the rest of the build or the tests.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
nb_execution_mode = "off" if _execute in {"off", "0", "no", "false"} else "cache"
nb_execution_timeout = 600
nb_execution_raise_on_error = True  # a lesson that fails to run fails the build
nb_execution_show_tb = True
nb_merge_streams = True

# -- API reference -------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True  # the public names are re-exported from their defining modules
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = True
autoclass_content = "both"  # the class docstring and the __init__ docstring
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# -- HTML ----------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"tinylearn {release}"
html_static_path = ["_static"]
html_css_files = ["tinylearn.css"]
html_theme_options = {"navigation_with_keys": True}
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

# MathJax is served from the site itself (npm's mathjax, fetched by fetch_assets.py): the docs
# render math offline. A relative mathjax_path is relative to _static/ of the built site.
if not mathjax_ready():
    fetch_mathjax()
mathjax_path = f"mathjax/{MATHJAX_ENTRY}"
# The widgets saved in the executed lessons are drawn by the ipywidgets embedder, also served from
# the site (instead of myst-nb's default of RequireJS and the embedder from two CDNs).
if not widgets_ready():
    fetch_widgets()
nb_ipywidgets_js = {f"widgets/{WIDGETS_ENTRY}": {}}
