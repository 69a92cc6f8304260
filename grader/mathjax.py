"""Math in feedback pages and the formgrader without a network: MathJax served from a local copy.

nbconvert's templates load MathJax from a CDN (``cdnjs.cloudflare.com``), and nbgrader's
feedback and formgrade templates call that macro with its default URL, so offline the math in
a page never renders. The MathJax used instead is the copy that the ``jupyter-server-mathjax``
package (Jupyter's own, pinned in ``pyproject.toml``) ships: the formgrader serves it at
``/static/jupyter_server_mathjax/``, and each grading output gets a copy under
``OUT/feedback/mathjax/`` that feedback pages load by a relative URL.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: MathJax 2's combined configuration that jupyter-server-mathjax ships (TeX input, HTML output).
CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
#: Where a feedback page (``OUT/feedback/STUDENT/ASSIGNMENT/NAME.html``) finds MathJax.
FEEDBACK_URL = f"../../mathjax/MathJax.js?config={CONFIG}"
#: Where the formgrader's pages find it (jupyter-server-mathjax's static route).
SERVER_URL = f"static/jupyter_server_mathjax/MathJax.js?config={CONFIG}"

# Replaces nbconvert's base/mathjax.html.j2 macro: same name and signature, a local script.
# jupyter-server-mathjax ships only the STIX-Web fonts (as the classic notebook used them).
_MACRO = """\
{%- macro mathjax(url=None) -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  tex2jax: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
            processEscapes: true, processEnvironments: true},
  TeX: {equationNumbers: {autoNumber: "AMS"}},
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null},
  messageStyle: "none"
});
</script>
<script src="{{ grader_mathjax_url }}"></script>
{%- endmacro %}
"""


def static_dir() -> Path:
    """The MathJax 2 tree shipped by ``jupyter-server-mathjax`` (raises ImportError if absent)."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).parent / "static"


def use_local(exporter, url: str) -> None:
    """Make an nbconvert ``TemplateExporter`` load MathJax from ``url`` instead of a CDN.

    Every template that imports the ``mathjax`` macro (nbgrader's feedback and formgrade
    templates, nbconvert's classic and lab ones) gets the local script.
    """
    from jinja2 import ChoiceLoader, DictLoader

    create = exporter._create_environment

    def create_environment():
        env = create()
        env.loader = ChoiceLoader([DictLoader({"mathjax.html.j2": _MACRO}), env.loader])
        env.globals["grader_mathjax_url"] = url
        return env

    exporter._create_environment = create_environment
    exporter._invalidate_environment_cache()


def install(feedback_root: Path) -> Path:
    """Copy MathJax to ``feedback_root/mathjax`` (once; about 8 MB without its translations).

    Files are hard-linked where the file system allows it. Returns the directory.
    """
    dest = Path(feedback_root) / "mathjax"
    if (dest / "MathJax.js").exists():
        return dest
    src = static_dir()
    tmp = dest.with_name(".mathjax.tmp")
    shutil.rmtree(tmp, ignore_errors=True)

    def link_or_copy(s, d):
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, tmp, ignore=shutil.ignore_patterns("localization", "SVG", "*.py"),
                    copy_function=link_or_copy)
    tmp.replace(dest)
    return dest
