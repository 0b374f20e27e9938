"""The core layer: from a case to a Result (case format, atoms, policy, engine, result, service).

Imports nothing above it (explain, render, authoring, _cli) at module level; see tests/test_layers.py."""
