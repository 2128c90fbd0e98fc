"""What stored text may hold: the control characters refused at input (core.forms) and stripped from exports."""

from __future__ import annotations

import re

# Invisible characters no one means to type: C0 and C1 controls, DEL, the non-characters U+FFFE/U+FFFF and lone
# surrogates. XLSX and DOCX (XML) refuse most of them, PostgreSQL refuses NUL, UTF-8 cannot encode a lone surrogate.
# Tab and line breaks are not among them: text of several lines keeps them.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
LINE_BREAK = re.compile("[\t\n\r]")


def strip_controls(text: str) -> str:
    return CONTROL.sub("", text)


def control_problem(label: str, text: str, multiline: bool) -> str | None:
    """Why this text cannot be stored, in a sentence naming the field; None when it can."""
    if bad := CONTROL.search(text):
        return f"{label} contains an invisible control character (U+{ord(bad.group()):04X}); remove it or type the text again."
    if not multiline and LINE_BREAK.search(text):
        return f"{label} must be on one line: remove the line breaks and tabs."
    return None
