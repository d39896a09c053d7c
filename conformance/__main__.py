"""``python -m conformance``: see conformance.frontends.cli.

Before the suite's modules are imported: a ``reference.py`` in the working directory would
replace the project's package of that name, and the suite would fail with an ImportError
(exit 1, "a check failed"); it is named instead, with exit 2. (``symbolic`` is not imported by
the suite, so a ``symbolic.py`` there is harmless; a ``conformance.py`` there runs instead of
this file, which Python alone decides: ``python -P -m conformance`` does not search the
working directory.) Without Hypothesis (the ``conformance`` extra) the suite cannot draw a
case: that is said in one line, with the command that installs it, and exit 2.
"""

import sys

from conformance.extras import missing_hypothesis
from conformance.implementations.shadowing import shadowing_file, shadowing_message

_found = shadowing_file(("reference", "conformance"))
if _found is not None:
    print(f"error: {shadowing_message(_found)}", file=sys.stderr)
    sys.exit(2)

_missing = missing_hypothesis("python -m conformance")  # the conformance extra's, not the package's dependency
if _missing is not None:
    print(f"error: {_missing}", file=sys.stderr)
    sys.exit(2)

from conformance.frontends.cli import main  # noqa: E402 - after the checks above, which must run before the suite's imports

sys.exit(main())
