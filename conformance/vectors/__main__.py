"""``python -m conformance.vectors {generate,verify}``."""

import sys

from . import cli

sys.exit(cli())
