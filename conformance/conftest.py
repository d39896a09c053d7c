"""Loads the pytest plugin when the package runs from a source checkout.

Installed, the ``pytest11`` entry point registers conformance.frontends.plugin before any
conftest; from a checkout (``pytest conformance --impl X`` in the repository) this
conftest does it, once, under the same name. The plugin then joins while the initial
conftests load, after its own hook for the short ``--impl``/``--impl-cmd`` aliases
has run, so this conftest adds them (only where still free; a no-op when installed).
"""

from __future__ import annotations

import pytest

from conformance.frontends import plugin


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    if not pluginmanager.is_registered(plugin) and pluginmanager.get_plugin("backprop_conformance") is None:
        pluginmanager.register(plugin, "backprop_conformance")


def pytest_addoption(parser: pytest.Parser) -> None:
    plugin.add_short_options(parser)
