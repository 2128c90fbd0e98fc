"""What stored text may hold: the control characters refused at input (core.forms) and stripped from exports, and
the most any field may hold."""

from __future__ import annotations

import re

# Invisible characters no one means to type: C0 and C1 controls, DEL, the non-characters U+FFFE/U+FFFF and lone
# surrogates. XLSX and DOCX (XML) refuse most of them, PostgreSQL refuses NUL, UTF-8 cannot encode a lone surrogate.
# Tab and line breaks are not among them: text of several lines keeps them.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
LINE_BREAK = re.compile("[\t\n\r]")


def strip_controls(text: str) -> str:
    return CONTROL.sub("", text)


# The most characters any field holds, whatever it is: a line (a name, a title, a location) or text of several lines
# (a description, findings, a comment). Fields that hold less say so themselves (a code 20, a title 200, …);
# the API schema shows each field's maximum, and a form field carries it as its maxlength.
MAX_LINE = 500
MAX_TEXT = 20_000


def too_long(label: str, length: int, limit: int) -> str:
    return f"{label} can be at most {limit:,} characters long; this one has {length:,}. Shorten it."


def control_problem(label: str, text: str, multiline: bool, limit: int | None = None) -> str | None:
    """Why this text cannot be stored, in a sentence naming the field; None when it can. `limit` is the field's own
    maximum when it holds less than the ceiling."""
    if bad := CONTROL.search(text):
        return f"{label} contains an invisible control character (U+{ord(bad.group()):04X}); remove it or type the text again."
    if not multiline and LINE_BREAK.search(text):
        return f"{label} must be on one line: remove the line breaks and tabs."
    ceiling = MAX_TEXT if multiline else MAX_LINE
    if len(text) > (limit := min(limit or ceiling, ceiling)):
        return too_long(label, len(text), limit)
    return None


# Renderers wrap a line only where a word may break: a long unbroken run (a URL, a path, a hash, a pasted key)
# would overflow its column, and laying it out costs WeasyPrint time that grows with the square of its length.
_LONG_WORD = re.compile(r"\S{30,}")
ZERO_WIDTH_SPACE = "\u200b"


def breakable(text: str) -> str:
    """The text with an invisible break opportunity every 8 characters of each word of 30 or more: narrow enough for
    the narrowest column of a printed table, and invisible to a reader."""
    return _LONG_WORD.sub(lambda m: ZERO_WIDTH_SPACE.join(m[0][i : i + 8] for i in range(0, len(m[0]), 8)), text)
