"""The optional extras the suite needs at run time, checked where a run starts.

The package depends on numpy and mpmath alone; Hypothesis (which draws every case) comes with the
``conformance`` extra. Without it a run would end in a traceback from deep inside the search, so
each front end asks here first and says what to install in one line. Light on purpose: the pytest
plugin calls it at collection, and it imports Hypothesis only when a run is about to need it.
"""

from __future__ import annotations

from importlib import import_module

INSTALL_CONFORMANCE = "pip install 'backprop-reference[conformance]'"


def missing_hypothesis(who: str) -> str | None:
    """None when Hypothesis imports; else one sentence naming ``who`` needs it and the command that installs it."""
    try:
        import_module("hypothesis")
    except ImportError:
        return f"{who} needs Hypothesis, which is not installed: {INSTALL_CONFORMANCE}"
    return None
