"""The rules themselves: declared inputs, citations, exactly one answer when all is known."""

from __future__ import annotations

import re

import clingo
import pytest
from clingo import ast
from casekit import FACTS, guidance_file

import pyisp
from pyisp.core.atoms import case_inputs, iter_input_predicates
from pyisp.core.program import fact as fact_rule
from pyisp.core.policy import Policy, default_policy_dir
from pyisp.core.schema import validate


def test_success_policy_loads_without_undefined_atoms():
    warnings: list[str] = []
    ctl = clingo.Control(["--warn=atom-undefined"], logger=lambda code, msg: warnings.append(msg))
    ctl.load(str(default_policy_dir() / "main.lp"))
    ctl.ground([("base", [])])
    assert warnings == []


def test_success_every_input_of_the_case_format_is_declared_and_documented():
    policy = Policy()
    text = "\n".join(p.read_text() for p in default_policy_dir().glob("*.lp"))
    declared = {(m.group(1), int(m.group(2))) for m in re.finditer(r"#defined\s+(\w+)/(\d+)", text)}
    stated = set(iter_input_predicates())
    assert stated <= declared
    query_inputs = {("reading_chosen", 2)}  # chosen per query (--reading), not stated by a case
    assert declared - query_inputs <= stated, "declared inputs no case can state"
    assert stated <= set(policy.docs)


def test_success_every_rule_cites_paragraphs_of_the_chapter():
    source = guidance_file()
    text = source.read_text(encoding="utf-8") if source else ""
    numbers = set(re.findall(r"^\s*(3\.\d+\.\d+)(?:\s|$)", text, re.M))
    policy = Policy()
    for rule in policy.cited_rules:
        assert rule.paragraphs, f"{rule.where} cites nothing"
        for number in rule.paragraphs:
            assert re.fullmatch(r"3\.[1-8]\.\d+", number), f"{rule.where} cites {number}"
            assert not numbers or number in numbers, f"{rule.where} cites {number}, not in the chapter"


@pytest.mark.slow
def test_success_every_input_known_gives_exactly_one_answer():
    policy = Policy()
    for path in sorted(FACTS.glob("*.yaml")):
        inputs = case_inputs(validate(pyisp.Case.load(path).data))
        for pick in (0, -1):  # fill every unknown with its first option, then its last
            facts = list(inputs.facts) + [sym for u in inputs.unknowns for sym, truth in u.options[pick][1] if truth]
            ctl = clingo.Control(["--models=0", "--warn=none"])
            with ast.ProgramBuilder(ctl) as builder:
                for statement in policy.statements:
                    builder.add(statement)
                for fact in facts:
                    builder.add(fact_rule(fact))
            ctl.ground([("base", [])])
            models = []
            ctl.solve(on_model=lambda m, models=models: models.append(m.symbols(shown=True)))
            assert len(models) == 1, path.name


def test_success_results_are_the_same_bytes_every_time():
    from pyisp.core.case import dumps_json
    path = FACTS / "teacher-counselling-disclosure.yaml"
    first = dumps_json(pyisp.query_file(path).to_dict())
    assert all(dumps_json(pyisp.query_file(path).to_dict()) == first for _ in range(3))


def test_success_installed_package_carries_its_policy():
    directory = default_policy_dir()
    assert (directory / "main.lp").is_file() and (directory / "defined.lp").is_file()
    assert directory.parent.name == "pyisp", "the policy must be shipped inside the package"


def test_a_rule_file_edited_while_the_policy_is_read_gets_the_fingerprint_of_the_rules_parsed(tmp_path, monkeypatch):
    import shutil

    from pyisp.core import policy as policy_module

    rules = tmp_path / "policy"
    shutil.copytree(default_policy_dir(), rules)
    read = policy_module.Policy._read
    edits = []

    def read_then_edit(self, root):  # an edit lands between the parse and the fingerprint
        read(self, root)
        if not edits:
            edits.append(True)
            with open(rules / "main.lp", "a", encoding="utf-8") as out:
                out.write("\n% edited while being read\n")

    monkeypatch.setattr(policy_module.Policy, "_read", read_then_edit)
    policy = Policy(rules)
    assert edits and policy.fingerprint == policy_module.policy_fingerprint(rules)
    assert any("edited while being read" in line for line in policy._file(str(rules / "main.lp")))


def test_symbol_key_is_equal_exactly_for_equal_symbols() -> None:
    """The caches of what is read from a symbol (its parts, its paragraphs) are keyed by
    policy.symbol_key: two symbols get the same key exactly when they are equal."""
    import itertools

    import clingo

    from pyisp.core.policy import symbol_key

    def made() -> list[clingo.Symbol]:
        return [clingo.Number(0), clingo.Number(1), clingo.Number(-1), clingo.String("#people.0"), clingo.String("a"),
                clingo.Function("a"), clingo.Function("a", [], False), clingo.Function("f", [clingo.String("a")]),
                clingo.Function("f", [clingo.Function("a")]), clingo.Function("f", [clingo.Number(1)]),
                clingo.Function("", [clingo.Number(1), clingo.String("x")]), clingo.Infimum, clingo.Supremum,
                clingo.Function("finding", [clingo.String("d1"), clingo.Function("consent_valid", [clingo.String("p")])])]

    first, again = made(), made()  # the same symbols made twice: other Python objects, the same clingo symbols
    for a, b in itertools.product(first, again):
        assert (symbol_key(a) == symbol_key(b)) == (a == b), (a, b)
    assert len({symbol_key(s) for s in first}) == len(set(first))
