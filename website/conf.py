"""Sphinx configuration of the course website (built by ``grader site``, see grader/website.py).

The builder copies this folder, the lectures (``course/``) and the student release
(``assignments/``) into a fresh source tree laid out like the repository, so the notebooks'
relative links work unchanged. ``solutions/`` is never copied.

Why this stack (measured 2026-11-29 on the project's 2-core machine, fresh venvs, Python 3.11):
Sphinx 9.0 + myst-nb 1.4 + sphinx-book-theme 1.4 installs in 107 s (279 MB with its Jupyter
dependencies; 37 s and +74 MB on top of the course's own pins) and builds offline. Jupyter
Book 1.0.4 (54 s, 267 MB) is the same engine held back at Sphinx 7.4 and myst-parser 3.
Jupyter Book 2.1 (96 s, 168 MB, plus Node.js >= 18) downloads its page template from
api.mystmd.org at build time, so it cannot build offline.
"""

project = "Interpreting and Explaining Machine Learning Models"
author = "the course authors"
copyright = "the course authors; course content CC BY 4.0, code MIT"

extensions = [
    "myst_nb",                 # notebooks with their stored outputs, MyST Markdown
    "sphinx-mathjax-offline",  # MathJax 3 served from _static/, no CDN
]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "conf.py"]
root_doc = "index"

# Notebooks: the stored outputs are shown as they are; `grader site --execute` sets "force".
nb_execution_mode = "off"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

html_theme = "sphinx_book_theme"
html_title = "Interpreting and Explaining ML Models"
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_show_sourcelink = False
html_theme_options = {
    "use_download_button": True,      # the .ipynb, for working locally
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "home_page_in_toc": True,
    "use_fullscreen_button": False,
    "show_prev_next": True,
}
html_last_updated_fmt = None
# pydata-sphinx-theme reads the colour mode from here on a reader's first visit (empty would log
# a console error).
html_context = {"default_mode": "auto"}
html_favicon = "_static/favicon.svg"
