"""Predicates whose rules the pyDatalog cross-check does not translate, each with the
reason: the one place to list them. clingo's value for an exempt predicate is handed to
pyDatalog as facts, so every rule built on it is still checked; `pyisp crosscheck`
prints this list. Keep it empty when a rule can be rewritten inside the fragment.
"""

EXEMPTIONS: dict[str, str] = {
    # "name/arity": "why this predicate's rules stay outside the fragment",
}
