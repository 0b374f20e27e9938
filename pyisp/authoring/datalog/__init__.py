"""pyDatalog as a second engine: the policy's rules translated automatically
(translate.py) into flat Datalog clauses (program.py) and evaluated by pyDatalog
(evaluate.py). Used by `pyisp crosscheck` only, never by `pyisp.query`."""
