"""Text that crosses into the trusted side: flags, reasons, messages and notebook strings.

Anything built from what a submission chose (a function's name, an exception's message, an
output's text) is hostile data. Before it reaches ``grades.csv``, the journal, the gradebook,
a graded notebook or a feedback page it goes through one of these functions, none of which can
raise:

- :func:`clean_text` makes one printable line: lone surrogates become U+FFFD, control
  characters (newlines included) become spaces, runs of spaces collapse, and the length is
  capped (with an ellipsis);
- :func:`clean_flag` keeps a flag only from the grader's fixed vocabulary; for the flags that
  carry a name (``tamper:monkeypatch:NAME``) the name is reduced to ``[A-Za-z0-9_.-]`` and capped;
- :func:`csv_cell` is :func:`clean_text` plus the OWASP rule against CSV (formula) injection: a
  cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``;
- :func:`clean_strings` replaces lone surrogates in every string of a JSON-like structure (a
  notebook), so it can always be encoded as UTF-8.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.\-]")
_FLAG_CHARS = re.compile(r"[^A-Za-z0-9_.:\-]")
#: Flags the grader itself emits (exactly).
FLAGS = frozenset({
    "timeout", "crashed", "record-failed", "feedback-failed", "intake-failed", "ignored-files",
    "misnamed",
    "over-budget:intake", "over-budget:record", "over-budget:feedback",
    "limit:memory", "limit:processes", "limit:output", "limit:file-size",
    "tamper:input-transformer", "tamper:ast-transformer", "tamper:exception-handler",
    "tamper:event-hook", "tamper:shell-override", "tamper:import-hook", "tamper:probe-blocked",
    "tamper:edited-test-cell", "tamper:deleted-test-cell", "tamper:relabelled-cell",
    "tamper:cell-metadata", "tamper:shipped-code", "tamper:cleared-error", "tamper:forged-collection",
    "tamper:and-more", "tamper:other",
})
#: Flags that end in a name (a module, a function): ``prefix + sanitised name``.
NAMED_FLAGS = ("tamper:monkeypatch:", "tamper:module-replaced:", "tamper:shadow-module:", "limit:")
MAX_NAME = 80
MAX_FLAG_NAMES = 40


def clean_text(value: object, cap: int = 400) -> str:
    """``value`` as one printable line of at most ``cap`` characters (never raises)."""
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # a hostile __str__
        text = f"<{type(value).__name__}>"
    if len(text) > 4 * cap + 64:  # bound the work on huge strings before the regexes
        text = text[: 4 * cap + 64]
    text = _SURROGATE.sub("\ufffd", text)
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > cap:
        text = text[: max(0, cap - 1)].rstrip() + "…"
    return text


def clean_flag(flag: object, strict: bool = True) -> str:
    """The flag if the grader knows it, or a named flag with its name sanitised. Anything else
    becomes ``tamper:unrecognised`` when ``strict`` (what a sandbox reported) or is reduced to
    ``[A-Za-z0-9_.:-]`` and capped (a flag the trusted side built). Never raises."""
    text = flag if isinstance(flag, str) else ""
    text = text[:200]
    if text in FLAGS:
        return text
    for prefix in NAMED_FLAGS:
        if text.startswith(prefix) and len(text) > len(prefix):
            name = _NAME_CHARS.sub("?", text[len(prefix):])[:MAX_NAME]
            return prefix + name
    if strict or not text:
        return "tamper:unrecognised"
    return _FLAG_CHARS.sub("?", text)[:MAX_NAME]


def clean_flags(flags: object, strict: bool = True) -> list[str]:
    """:func:`clean_flag` of each, duplicates dropped, order kept, at most a bounded number."""
    out: list[str] = []
    try:
        items = list(flags)[: MAX_FLAG_NAMES * 4] if isinstance(flags, (list, tuple)) else []
    except Exception:
        items = []
    for flag in items:
        clean = clean_flag(flag, strict)
        if clean not in out:
            out.append(clean)
    if len(out) > MAX_FLAG_NAMES:
        out = out[:MAX_FLAG_NAMES] + ["tamper:and-more"]
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


def csv_cell(value: object, cap: int = 400) -> str:
    """A cell of ``grades.csv``: :func:`clean_text`, then a leading ``'`` if a spreadsheet would
    read it as a formula (OWASP, "CSV Injection"); a plain number is left as it is."""
    text = clean_text(value, cap)
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def clean_strings(obj):
    """``obj`` (JSON-like: dict, list, str, numbers) with lone surrogates replaced in every string,
    keys included; the same object when nothing needed replacing."""
    if isinstance(obj, str):
        return _SURROGATE.sub("\ufffd", obj) if _SURROGATE.search(obj) else obj
    if isinstance(obj, dict):
        for key in list(obj):
            value = clean_strings(obj[key])
            new_key = clean_strings(key) if isinstance(key, str) else key
            if new_key is not key:
                del obj[key]
            obj[new_key] = value
        return obj
    if isinstance(obj, list):
        for i, value in enumerate(obj):
            obj[i] = clean_strings(value)
        return obj
    return obj


#: What :func:`clean_html` keeps: the markup Markdown and pandas produce, nothing that runs.
_HTML_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p",
    "pre", "s", "samp", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
_HTML_ATTRIBUTES = {
    "*": ["class", "id", "title"],
    "a": ["href"],
    "img": ["src", "alt", "width", "height"],
    "td": ["align", "colspan", "rowspan"],
    "th": ["align", "colspan", "rowspan"],
}


_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)


def clean_html(text: object) -> str:
    """``text`` (HTML that a submission may have chosen: its Markdown rendered, an HTML output)
    with only inert markup left: no script, style, event handler or frame, and links and images
    only to ``http:``, ``https:``, ``mailto:`` or relative addresses (bleach, nbconvert's own
    sanitiser, with a list that keeps headings, paragraphs and tables); tags not allowed are
    shown escaped, as text. Never raises (a value that is not text becomes "")."""
    import bleach

    if not isinstance(text, str):
        return ""
    text = _SCRIPT_OR_STYLE.sub("", text)  # cosmetic (pandas' <style> would show as text): bleach decides
    try:
        return bleach.clean(text, tags=_HTML_TAGS, attributes=_HTML_ATTRIBUTES,
                            protocols={"http", "https", "mailto"}, strip_comments=True)
    except Exception:  # noqa: BLE001 - a sanitiser's bug must not leave the markup in
        import html

        return html.escape(text)
