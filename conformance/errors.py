"""The suite's own exceptions that more than one module raises."""


class LoadError(Exception):
    """The implementation cannot be loaded or started (exit status 2 of the command line)."""
