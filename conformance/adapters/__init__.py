"""Adapters that make existing frameworks conformant callables (each imports its own lazily)."""
