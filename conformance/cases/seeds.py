"""Seeds: an integer, or "random" for a fresh one that the report prints.

A pinned seed repeats a run exactly (the default, 0, is what the docs' examples show);
a random seed, drawn once per run, explores other cases on every CI run while staying
reproducible: the report's header prints the seed and the command that repeats the run.
Light on purpose: the pytest plugin, which every pytest run imports, parses the option.
"""

from __future__ import annotations

import argparse
import operator
import os

RANDOM = "random"


def parse_seed(text: str) -> int | str:
    """The ``--seed`` option: an integer, or ``"random"`` (drawn later, once per run: resolve_seed)."""
    if text.strip().lower() == RANDOM:
        return RANDOM
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'random', got {text!r}") from None
    return value


def random_seed() -> int:
    """A fresh seed from the OS: 32 bits, short enough to copy from a CI log."""
    return int.from_bytes(os.urandom(4), "big")


def resolve_seed(seed: int | str) -> tuple[int, bool]:
    """(the seed to run with, whether it was drawn at random); ValueError naming the seed otherwise."""
    if isinstance(seed, str):
        parsed = parse_seed_or_value_error(seed)
        if parsed == RANDOM:
            return random_seed(), True
        seed = int(parsed)
    try:
        if isinstance(seed, bool):
            raise TypeError
        return operator.index(seed), False
    except TypeError:
        raise ValueError(f"seed must be an integer or 'random', got {seed!r}") from None


def parse_seed_or_value_error(text: str) -> int | str:
    """parse_seed for the Python API: a ValueError (the CLI's usage error) rather than argparse's."""
    try:
        return parse_seed(text)
    except argparse.ArgumentTypeError as error:
        raise ValueError(f"seed: {error}") from None
