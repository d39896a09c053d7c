"""The ways in: ``check_implementation`` and ``replay`` (the Python API), ``python -m conformance``,
the pytest plugin, and ``parametrize_with_checks`` for a third party's own test suite.
"""
