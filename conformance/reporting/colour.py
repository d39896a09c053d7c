"""ANSI colour on a terminal, and nowhere else, by the common conventions.

Colour codes in a log file, a CI log or a pipe into grep are noise, so colour is on only
when the stream is a terminal, or when asked for. The conventions followed are Python's
own (3.13, ``_colorize``): ``NO_COLOR`` set to anything but "" turns colour off whatever
else is set (https://no-color.org); ``FORCE_COLOR`` set to anything but "" turns it on
where the stream is not a terminal (https://force-color.org; a CI log that renders ANSI);
``TERM=dumb`` turns it off on a terminal. Only what is printed is painted: the report
object and its JSON never carry a colour code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal, TextIO

Style = Literal["pass", "fail", "warn", "bold"]

# SGR codes: green, bold red, yellow, bold.
_CODES: dict[Style, str] = {"pass": "32", "fail": "1;31", "warn": "33", "bold": "1"}
_RESET = "\x1b[0m"


def colour_wanted(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether text written to ``stream`` should be coloured (the module docstring's rules, in order)."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    return is_terminal(stream)


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal; a stream without ``isatty`` (or a closed one) is not."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def paint(text: str, style: Style, on: bool) -> str:
    """``text`` in ``style`` when ``on``, else ``text`` unchanged."""
    return f"\x1b[{_CODES[style]}m{text}{_RESET}" if on and text else text
