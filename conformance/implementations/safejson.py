"""JSON from untrusted sources (case files, result files, manifests, JSON-lines answers), bounded.

Python's json module trusts its input: a file of ``[[[[...`` 100000 deep raises
RecursionError, an integer literal of 10**100000 raises a ValueError about the
4300-digit limit (after doing the work), ``NaN`` tokens become floats, and a
multi-gigabyte file is read whole. Here every such input gets one ``JSONInputError``
line naming what was read and what was wrong, and the work stays bounded by the
byte limit: the size is checked before parsing, integer literals are checked by
length before conversion (``parse_int``), ``NaN``/``Infinity`` tokens are refused
unless the caller allows them (``parse_constant``), and the nesting depth is
checked by one iterative walk after the C parser has run (a nesting deeper than
the interpreter's recursion limit already fails inside the parser and is caught).
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from conformance.errors import JSONInputError

# Defaults sized for the contract's documents: a case or result is at most 5 levels
# deep (document > field > layer > row > number), integers are layer widths and
# indices; a float64 overflows beyond 309 digits anyway.
DEFAULT_MAX_DEPTH = 32
DEFAULT_MAX_INT_DIGITS = 100
DEFAULT_MAX_BYTES = 64 * 2**20

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_INT_DIGITS",
    "JSONInputError",
    "load_json_file",
    "loads_bounded",
    "one_line",
]


def one_line(text: object, limit: int = 300) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters, printable.

    Lone surrogates (JSON allows ``"\\ud800"``) become backslash escapes, so printing
    the message cannot raise UnicodeEncodeError.
    """
    flat = " ".join(str(text).encode("utf-8", "backslashreplace").decode("utf-8").split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _int_parser(max_digits: int, what: str) -> Any:
    def parse_int(literal: str) -> int:
        digits = len(literal) - (literal[0] == "-")
        if digits > max_digits:
            raise JSONInputError(f"{what}: an integer literal has {digits} digits, at most {max_digits} are accepted")
        return int(literal)

    return parse_int


def _constant_parser(allow: bool, what: str) -> Any:
    def parse_constant(token: str) -> float:
        if not allow:
            raise JSONInputError(
                f"{what}: the non-standard token {token} is not accepted (write non-finite numbers "
                'as the strings "nan", "inf", "-inf")'
            )
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[token]

    return parse_constant


def _depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether containers nest deeper than max_depth (the document itself is depth 1); iterative."""
    stack: list[tuple[Any, int]] = [(value, 1)] if isinstance(value, list | dict) else []
    while stack:
        container, depth = stack.pop()
        if depth > max_depth:
            return True
        children = container.values() if isinstance(container, dict) else container
        stack.extend((child, depth + 1) for child in children if type(child) is list or type(child) is dict)
    return False


def loads_bounded(
    text: str | bytes,
    *,
    what: str = "JSON",
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_int_digits: int = DEFAULT_MAX_INT_DIGITS,
    allow_nan_tokens: bool = False,
) -> Any:
    """One JSON document, or JSONInputError (one line starting with ``what``).

    ``allow_nan_tokens``: read bare ``NaN``/``Infinity``/``-Infinity`` as floats (the
    contract asks receivers of results to accept them) instead of refusing them.
    """
    if len(text) > max_bytes:
        raise JSONInputError(f"{what}: {len(text)} bytes, larger than the limit of {max_bytes}")
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise JSONInputError(f"{what}: not UTF-8 text ({one_line(error)})") from None
    try:
        value = json.loads(
            text,
            parse_int=_int_parser(max_int_digits, what),
            parse_constant=_constant_parser(allow_nan_tokens, what),
        )
    except JSONInputError:
        raise
    except RecursionError:
        raise JSONInputError(f"{what}: nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as error:
        raise JSONInputError(
            f"{what}: not valid JSON: {one_line(error.msg)} at line {error.lineno} column {error.colno}"
        ) from None
    except (ValueError, MemoryError) as error:
        raise JSONInputError(f"{what}: not acceptable JSON: {one_line(error)}") from None
    if _depth_exceeds(value, max_depth):
        raise JSONInputError(f"{what}: nested deeper than {max_depth} levels")
    return value


def read_bounded(path: str | Path, *, max_bytes: int, what: str, follow_symlinks: bool = True) -> bytes:
    """A regular file's bytes, at most max_bytes; JSONInputError for anything else.

    Opens without blocking (a FIFO would hang a plain open) and checks the opened
    descriptor, so the file checked is the file read; ``follow_symlinks=False``
    refuses a symbolic link as the last path component.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
        if os.path.islink(path):
            raise JSONInputError(f"{what}: is a symbolic link, which is not followed")
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise JSONInputError(f"cannot read {what}: {error.strerror or one_line(error)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise JSONInputError(f"{what}: {kind}, expected a regular file")
        if info.st_size > max_bytes:
            raise JSONInputError(f"{what}: {info.st_size} bytes, larger than the limit of {max_bytes}")
        chunks, size = [], 0
        while size <= max_bytes:  # a read may return less than asked (O_NONBLOCK)
            chunk = os.read(fd, max_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as error:
        raise JSONInputError(f"cannot read {what}: {error.strerror or one_line(error)}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # grew while being read
        raise JSONInputError(f"{what}: larger than the limit of {max_bytes} bytes")
    return data


def load_json_file(
    path: str | Path,
    *,
    what: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_int_digits: int = DEFAULT_MAX_INT_DIGITS,
    allow_nan_tokens: bool = False,
    follow_symlinks: bool = True,
) -> Any:
    """The JSON document in a file, with loads_bounded's limits; ``what`` defaults to the path."""
    label = what if what is not None else str(path)
    data = read_bounded(path, max_bytes=max_bytes, what=label, follow_symlinks=follow_symlinks)
    return loads_bounded(
        data,
        what=label,
        max_bytes=max_bytes,
        max_depth=max_depth,
        max_int_digits=max_int_digits,
        allow_nan_tokens=allow_nan_tokens,
    )
