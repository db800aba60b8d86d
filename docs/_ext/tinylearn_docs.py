"""Sphinx helpers for the tinylearn site: generated API pages, the examples gallery, optional toctrees.

* ``config-inited`` writes ``docs/api/*.rst`` (git-ignored): one page per public module, with an
  autosummary table of every public name (``__all__``, or the public attributes of the top-level
  package grouped by the module that defines them), and ``docs/api/all.rst``, from which
  autosummary writes one stub page per name into ``docs/api/generated/``. Pages of names that no
  longer exist are deleted, so a rename never leaves a stale page behind.
* ``.. examples-gallery::`` renders every ``examples/*.py``: its docstring (reStructuredText) and
  its source, included from the file itself.
* ``.. optional-toctree::`` is a toctree that leaves out entries whose documents do not exist
  (yet) instead of warning: the lessons (``lessons/*``) and the benchmarks page appear by
  themselves once their files are written.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import types
from pathlib import Path

import numpy as np
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.directives.other import TocTree
from sphinx.util import docname_join, logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.matching import patfilter
from sphinx.util.parsing import nested_parse_to_nodes

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
API_DIR = DOCS / "api"
STUB_DIR = API_DIR / "generated"
EXAMPLES_DIR = ROOT / "examples"

# The modules of the API reference, in reading order: (module, one-line description).
API_MODULES = [
    ("tinylearn", "Tensor, creation functions, operations, dtypes, random numbers, grad mode"),
    ("tinylearn.autograd", "the Function protocol, the backward pass, grad() and grad mode"),
    ("tinylearn.gradcheck", "finite-difference gradient checks"),
    ("tinylearn.nn", "modules, layers, losses"),
    ("tinylearn.nn.functional", "the layers and losses as functions"),
    ("tinylearn.nn.init", "parameter initialisation"),
    ("tinylearn.optim", "optimizers and gradient clipping"),
    ("tinylearn.optim.lr_scheduler", "learning-rate schedules"),
    ("tinylearn.amp", "mixed precision"),
    ("tinylearn.data", "data sets, loaders, transforms"),
    ("tinylearn.io", "saving and loading tensors, models and checkpoints"),
    ("tinylearn.training", "the training loop"),
    ("tinylearn.viz", "figures and interactive widgets"),
    ("tinylearn.models", "ready-made models"),
    ("tinylearn.exercises", "the lesson exercises and their grader (tinylearn check)"),
    ("tinylearn.lessons", "the curriculum map, lesson coverage and the FAST switch"),
]

# Section titles of the top-level page, by the module that defines a name.
TOPLEVEL_GROUPS = {
    "tinylearn.tensor": "Tensors and creation functions",
    "tinylearn.ops": "Operations",
    "tinylearn.dtypes": "Data types",
    "tinylearn.random": "Random numbers",
    "tinylearn.autograd": "Gradient mode",
    "tinylearn.backend": "Devices",
    "tinylearn.gradcheck": "Gradient checking",
    "tinylearn.amp": "Mixed precision",
    "tinylearn.io": "Saving and loading",
}


def public_names(module: types.ModuleType) -> list[str]:
    """The public names of a module: ``__all__``, else its public attributes that are not modules."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in vars(module) if not n.startswith("_")]
    return [n for n in names if not isinstance(getattr(module, n), types.ModuleType)]


def is_data(obj: object) -> bool:
    return not (inspect.isclass(obj) or callable(obj))


def group_of(modname: str, obj: object) -> str:
    """The section a name goes to: by kind in a submodule, by defining module at the top level."""
    if modname == "tinylearn":
        if isinstance(obj, np.dtype):
            return "Data types"
        home = (type(obj).__module__ if is_data(obj) else getattr(obj, "__module__", None)) or ""
        for prefix, title in TOPLEVEL_GROUPS.items():
            if home == prefix or home.startswith(prefix + "."):
                return title
        return "Other"
    if inspect.isclass(obj):
        return "Exceptions" if issubclass(obj, BaseException) else "Classes"
    return "Data" if is_data(obj) else "Functions"


def data_entry(module: types.ModuleType, name: str) -> list[str]:
    """A ``py:data`` entry for a public object that is neither a class nor a function (dtypes, ...)."""
    obj = getattr(module, name)
    text = repr(obj)
    if " at 0x" in text:  # an instance without a useful repr
        text = f"An instance of :class:`~{type(obj).__module__}.{type(obj).__qualname__}`."
    else:
        text = f"``{text}``"
    aliases = [n for n in public_names(module) if n != name and getattr(module, n) is obj]
    if aliases:
        text += " The same object as " + ", ".join(f":data:`{n}`" for n in aliases) + "."
    return [f".. py:data:: {name}", "", f"   {text}", ""]


def module_page(modname: str, taken: set[str]) -> tuple[str, list[str]]:
    """The reStructuredText of one module's page and the full names of its autosummary stubs.

    ``taken``: full names already documented as objects (``tinylearn.gradcheck`` is a function at
    the top level and a module); such a module's page does not index the module name a second time.
    """
    module = importlib.import_module(modname)
    groups: dict[str, list[str]] = {}
    for name in public_names(module):
        groups.setdefault(group_of(modname, getattr(module, name)), []).append(name)
    order = ([*dict.fromkeys(TOPLEVEL_GROUPS.values()), "Other"] if modname == "tinylearn"
             else ["Classes", "Functions", "Exceptions", "Data"])  # fmt: skip
    no_index = ["   :no-index:"] if modname in taken else []
    lines = [modname, "=" * len(modname), "", f".. automodule:: {modname}", *no_index, "",
             f".. currentmodule:: {modname}", ""]  # fmt: skip
    documented = []
    for title in order:
        names = groups.get(title)
        if not names:
            continue
        lines += [title, "-" * len(title), ""]
        objects = [n for n in names if not is_data(getattr(module, n))]
        if objects:
            lines += [".. autosummary::", "   :nosignatures:", ""]
            lines += [f"   {name}" for name in objects]
            lines.append("")
            documented += [f"{modname}.{name}" for name in objects]
        for name in names:
            if is_data(getattr(module, name)):
                lines += data_entry(module, name)
    return "\n".join(lines), documented


def index_page(modules: list[tuple[str, str]]) -> str:
    lines = ["API reference", "=============", "",
             "Every public name of tinylearn, one page each, generated from the docstrings.", "",
             ".. list-table::", "   :header-rows: 0", ""]  # fmt: skip
    for modname, what in modules:
        lines += [f"   * - :doc:`{modname}`", f"     - {what}"]
    lines += ["", "All names in one table: :doc:`all`.", "",
              ".. toctree::", "   :hidden:", ""] + [f"   {m}" for m, _ in modules] + [""]  # fmt: skip
    return "\n".join(lines)


def all_page(names: list[str], filename_map: dict[str, str]) -> str:
    """The one page whose autosummary has a ``:toctree:``: autosummary writes a stub per name from it.

    It is an orphan, so the 300-odd stubs stay out of the site's navigation tree, which furo renders
    on every page (with the stubs in it, the build took 20 times longer and the site was 10 times
    larger). The module pages link to the same stubs through their autosummary tables.
    """
    mapped = ", ".join(f"{k} -> {v}" for k, v in sorted(filename_map.items()))
    lines = [":orphan:", "", f".. stub files renamed (re-read this page when this changes): {mapped}", "",
             "Every public name", "=================", "",
             ".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]  # fmt: skip
    return "\n".join(lines + [f"   {name}" for name in names] + [""])


def write_if_changed(path: Path, text: str) -> None:
    """Rewrite only what changed, so that incremental builds stay incremental."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def stub_filename_map(names: list[str]) -> dict[str, str]:
    """Names that differ only by case (``Tensor``/``tensor``) get distinct stub files on any file system.

    The class keeps its name; the other gets a suffix: ``tinylearn.tensor-function.html``.
    """
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name.lower(), []).append(name)
    mapping = {}
    for group in groups.values():
        for name in sorted(group)[1:]:  # uppercase sorts first: the class keeps its name
            modname, _, attr = name.rpartition(".")
            obj = getattr(importlib.import_module(modname), attr)
            kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "object"
            mapping[name] = f"{name}-{kind}"
    return mapping


def generate_api(app: Sphinx, config) -> None:
    API_DIR.mkdir(exist_ok=True)
    STUB_DIR.mkdir(exist_ok=True)
    modules, names = [], []
    for modname, what in API_MODULES:
        try:
            text, documented = module_page(modname, set(names))
        except ImportError as exc:
            logger.info("tinylearn_docs: %s not importable (%s); left out of the API reference", modname, exc)
            continue
        write_if_changed(API_DIR / f"{modname}.rst", text)
        modules.append((modname, what))
        names += documented
    write_if_changed(API_DIR / "index.rst", index_page(modules))
    config.autosummary_filename_map = stub_filename_map(names)
    write_if_changed(API_DIR / "all.rst", all_page(names, config.autosummary_filename_map))
    wanted_pages = {"index.rst", "all.rst"} | {f"{m}.rst" for m, _ in modules}
    for page in API_DIR.glob("*.rst"):
        if page.name not in wanted_pages:
            page.unlink()
    wanted_stubs = {config.autosummary_filename_map.get(n, n) for n in names}
    for stub in STUB_DIR.glob("*.rst"):
        if stub.stem not in wanted_stubs:
            stub.unlink()


def docstring_and_body(path: Path) -> tuple[str, str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree) or ""
    first = tree.body[0] if tree.body else None
    start = first.end_lineno + 1 if doc and first is not None else 1
    return doc, str(start)


class ExamplesGallery(SphinxDirective):
    """Every ``examples/*.py``: a section titled by its file, its docstring, then its code."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        scripts = sorted(EXAMPLES_DIR.glob("*.py"))
        if not scripts:
            return [nodes.paragraph(text="No examples yet.")]
        lines = [".. highlight:: none", ""]  # the docstrings' literal blocks are shell commands
        for script in scripts:
            self.env.note_dependency(str(script))
            doc, start = docstring_and_body(script)
            summary, _, rest = doc.partition("\n")
            title = f"``{script.name}``"
            include = Path("/") / script.relative_to(DOCS.parent).as_posix()  # absolute = from the repo root
            lines += [title, "-" * len(title), "", f"**{summary.strip()}**" if summary.strip() else "", "",
                      *rest.strip("\n").splitlines(), "",
                      f"Run it: ``python examples/{script.name} --help``", "",
                      f".. literalinclude:: /..{include}", "   :language: python", f"   :lines: {start}-",
                      "   :class: tinylearn-example", ""]  # fmt: skip
        return nested_parse_to_nodes(self.state, "\n".join(lines), allow_section_headings=True)


class OptionalTocTree(TocTree):
    """A toctree that silently leaves out entries (plain or glob) that match no document."""

    def parse_content(self, toctree):  # type: ignore[override]
        found = set(self.env.found_docs) - {self.env.docname}
        kept = []
        for entry in self.content:
            target = entry.strip()
            if target.endswith(">") and "<" in target:  # "Title <document>"
                target = target[target.rindex("<") + 1 : -1]
            docname = docname_join(self.env.docname, target.removesuffix(".md").removesuffix(".rst"))
            if "glob" in self.options and any(c in target for c in "*?["):
                if patfilter(found, docname):
                    kept.append(entry)
            elif docname in found:
                kept.append(entry)
        self.content = StringList(kept)
        return super().parse_content(toctree)


# -- Plain-text math in docstrings ---------------------------------------------------------------
# The library's docstrings write math as text: |x − y|, shapes (N, C, *), vjp(*inputs). In
# reStructuredText "|x|" is a substitution and a lone "*" opens an emphasis, so both are escaped
# here, outside ``literals``, roles, literal blocks and directives; *emphasis*, **strong** and
# "* " bullets are kept.
_PROTECTED = re.compile(
    r"``.+?``"  # inline literals
    r"|:[\w:.-]+:`[^`]*`"  # roles such as :class:`Tensor`
    r"|`[^`]+`_{0,2}"  # interpreted text, links
    r"|\*\*[^\s*](?:[^*]*[^\s*\\])?\*\*"  # **strong**
    r"|(?<![\w*\\])\*[\w`](?:[^*]*[^\s*\\(])?\*(?![\w*(])"  # *emphasis*
    r"|\\."  # already escaped
)


def _escape_plain(text: str) -> str:
    out, last = [], 0
    for match in _PROTECTED.finditer(text):
        out.append(re.sub(r"([*|])", r"\\\1", text[last : match.start()]))
        out.append(match.group())
        last = match.end()
    out.append(re.sub(r"([*|])", r"\\\1", text[last:]))
    return "".join(out)


def escape_plain_math(lines: list[str]) -> None:
    """Escape ``|`` and lone ``*`` in prose lines, in place."""
    block_indent = None  # the indentation of the line that opened a literal block or directive
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if block_indent is not None:
            if not stripped or indent > block_indent:
                continue
            block_indent = None
        if not stripped or stripped.startswith((">>>", "+-", "| ")):
            continue
        if stripped.startswith(".. ") or stripped.endswith("::"):
            block_indent = indent
            if stripped.startswith(".. "):
                continue
        bullet = re.match(r"([*+-] )", stripped)
        head = line[: indent + (2 if bullet else 0)]
        lines[i] = head + _escape_plain(line[len(head) :])


def process_docstring(app: Sphinx, what: str, name: str, obj: object, options, lines: list[str]) -> None:
    escape_plain_math(lines)


def always_outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages whose content depends on which files exist: re-read them on every build."""
    return [d for d in ("examples", "lessons", "index") if d in env.found_docs]


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", generate_api)  # before Sphinx looks for source files
    app.connect("env-get-outdated", always_outdated)
    app.connect("autodoc-process-docstring", process_docstring, priority=600)  # after napoleon
    app.add_directive("examples-gallery", ExamplesGallery)
    app.add_directive("optional-toctree", OptionalTocTree)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
