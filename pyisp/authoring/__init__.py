"""The authoring layer: tools for writing and checking the rules (scenarios, coverage, verify, diff, mutate, ...)."""
