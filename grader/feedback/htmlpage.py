"""The HTML page that the feedback (``html``) and the class summary (``batch/summary_html``)
are written into: one self-contained document, safe to open and to embed as it is.

Owns the three things that make it safe and self-contained:

* ``esc``: every text that goes into the page goes through it. Whatever the student wrote (their
  printed output, an exception's message, a file name) reaches the page as text: ``< > & " '``
  are escaped (attribute values are always double-quoted), control characters are shown as
  their visible symbols (U+2400...) and lone surrogates as U+FFFD, so nothing can become markup
  or break the document's encoding.
* the Content-Security-Policy, as the first element of the head: no script of any kind, no
  remote load (no script, style, font, image, frame, form target or base URL from anywhere).
  The one stylesheet is allowed by its hash, so even an injected ``<style>`` would not apply.
  Pictures are inline SVG with presentation attributes, which need no style permission.
* the stylesheet both pages share (system fonts only, CJK ones first for Chinese).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

STYLESHEET = """
:root { color-scheme: light; --ok: #1a7f37; --bad: #c62828; --skip: #8a6d00; --dim: #5f6b7a; --line: #d8dee4; }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 1.25rem; max-width: 60rem; color: #1f2328; background: #fff; line-height: 1.5;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC",
  "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; overflow-wrap: anywhere; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .6rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
p { margin: .35rem 0; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: .9em; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: .6rem .75rem; margin: .4rem 0;
  white-space: pre-wrap; overflow-wrap: anywhere; max-height: 24rem; overflow: auto; }
table { border-collapse: collapse; margin: .4rem 0; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: #f6f8fa; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name { max-width: 28rem; }
.head { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; padding: 1rem; border-radius: 8px;
  border: 1px solid var(--line); background: #f6f8fa; }
.head.passed { border-color: var(--ok); background: #eefbf1; }
.head.failed, .head.error { border-color: var(--bad); background: #fff4f4; }
.badge { display: inline-block; padding: .1rem .55rem; border-radius: 999px; font-weight: 700; color: #fff;
  background: var(--dim); white-space: nowrap; }
.badge.passed { background: var(--ok); } .badge.failed, .badge.error { background: var(--bad); }
.badge.not_run { background: var(--skip); }
.big { font-size: 1.1rem; }
.score { font-size: 1.6rem; font-weight: 700; font-variant-numeric: tabular-nums; white-space: nowrap; }
.dim { color: var(--dim); }
.note { color: var(--dim); font-size: .92rem; }
.mistake { border-left: 4px solid var(--bad); background: #fff4f4; padding: .5rem .75rem; margin: .5rem 0;
  border-radius: 0 6px 6px 0; }
.hint { border-left: 4px solid #0969da; background: #f0f6ff; padding: .4rem .75rem; margin: .4rem 0;
  border-radius: 0 6px 6px 0; }
details { border: 1px solid var(--line); border-radius: 8px; padding: .25rem .9rem; margin: .6rem 0; }
details[open] { padding-bottom: .8rem; }
summary { cursor: pointer; padding: .35rem 0; font-weight: 600; }
.context { margin: .4rem 0; }
.context .current { background: #ffebe9; }
.figure { margin: .6rem 0; }
.figure svg { max-width: 100%; height: auto; }
.legend { list-style: none; padding: 0; margin: .3rem 0; display: flex; gap: 1.1rem; flex-wrap: wrap;
  font-size: .9rem; }
.legend li { display: flex; gap: .35rem; align-items: center; }
.bar-cell { min-width: 12rem; }
.arrays { display: flex; gap: 1rem; flex-wrap: wrap; align-items: flex-start; }
table.array caption { text-align: left; caption-side: top; font-size: .9rem; padding-bottom: .2rem; }
table.array td { border: 1px solid var(--line); padding: .15rem .45rem; }
.array-group.got table.array td { background: #fff8f0; }
.hidden-mark { color: var(--dim); font-size: .85rem; }
footer { margin-top: 2rem; color: var(--dim); font-size: .9rem; }
"""

_STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLESHEET.encode("utf-8")).digest()).decode("ascii")
CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src '{_STYLE_HASH}'; img-src 'none'; font-src 'none'; "
                           "base-uri 'none'; form-action 'none'")
HTML_LANG = {"zh": "zh-CN", "en": "en"}

_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _visible(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: U+241B for ESC, U+240D for a bare CR
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def esc(value) -> str:
    """``value`` as HTML text, safe in element content and in a double-quoted attribute."""
    return html.escape(_UNPRINTABLE.sub(_visible, str(value).replace("\r\n", "\n")), quote=True)


def page(lang: str, title: str, body: str) -> str:
    """The whole document: ``body`` is markup built with ``esc`` and ``svgcharts``."""
    return (f'<!DOCTYPE html>\n<html lang="{HTML_LANG.get(lang, "en")}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="referrer" content="no-referrer">\n'
            f"<title>{esc(title)}</title>\n<style>{STYLESHEET}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
