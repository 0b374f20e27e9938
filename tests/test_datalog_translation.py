"""The translation of rules into pyDatalog: each pyDatalog trap (engine-notes.md) on a
small rule written to hit it, the constructs of the fragment against clingo, and rules
outside the fragment stopped with their file and line."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import clingo
import pytest

from pyisp.authoring.datalog.evaluate import DatalogEngine
from pyisp.authoring.datalog.translate import TranslationError, translate
from pyisp.core.policy import Policy


def _policy(tmp_path: Path, program: str) -> Policy:
    (tmp_path / "main.lp").write_text(program, encoding="utf-8")
    return Policy(tmp_path)


def _facts(text: str) -> list[clingo.Symbol]:
    return [clingo.parse_term(t) for t in text.split()]


def _clingo(program: str, facts: list[clingo.Symbol]) -> frozenset[clingo.Symbol]:
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], program + "".join(f"{f}." for f in facts))
    ctl.ground([("base", [])])
    models: list[frozenset[clingo.Symbol]] = []
    ctl.solve(on_model=lambda m: models.append(frozenset(m.symbols(shown=True))))
    assert len(models) == 1
    return models[0]


def _both(tmp_path: Path, program: str, facts: str) -> tuple[frozenset[clingo.Symbol], frozenset[clingo.Symbol]]:
    symbols = _facts(facts)
    datalog = DatalogEngine(translate(_policy(tmp_path, program)))
    return _clingo(program, symbols), datalog.answer(symbols).atoms


def _atoms(text: str) -> frozenset[clingo.Symbol]:
    return frozenset(_facts(text))


# ---------------------------------------------------------------- the four traps

def test_comparison_written_before_its_variable_is_bound_still_filters(tmp_path: Path) -> None:
    program = "old(C) :- A >= 16, age(C, A).\n#show old/1."
    expected, got = _both(tmp_path, program, "age(a,17) age(b,16) age(c,15)")
    assert got == expected == _atoms("old(a) old(b)")


def test_count_compared_with_a_bound_gives_the_groups_above_it(tmp_path: Path) -> None:
    # pyDatalog drops `(cnt[X] >= 2)` silently; the translation compares the count's value
    program = ("busy(D) :- disclosure(D), #count{ I : discloses(D, I) } >= 2.\n"
               "quiet(D) :- disclosure(D), #count{ I : discloses(D, I) } < 1.\n#show busy/1. #show quiet/1.")
    expected, got = _both(tmp_path, program, "disclosure(d1) disclosure(d2) disclosure(d3) "
                                             "discloses(d1,x) discloses(d1,y) discloses(d2,x)")
    assert got == expected == _atoms("busy(d1) quiet(d3)")


def test_negated_literal_written_before_its_variables_are_bound_still_holds(tmp_path: Path) -> None:
    # as written, pyDatalog would answer nothing (shown below); the translation reorders
    program = ("lonely(X) :- not friend(X), person(X).\n"
               "unowned(C) :- not owns(_, C), car(C).\n#show lonely/1. #show unowned/1.")
    expected, got = _both(tmp_path, program, "person(ann) person(bob) friend(bob) car(c1) car(c2) owns(ann,c1)")
    assert got == expected == _atoms("lonely(ann) unowned(c2)")


def test_pydatalog_itself_returns_nothing_for_a_negation_before_its_binding() -> None:
    from pyDatalog import Logic, pyEngine

    previous = getattr(Logic.tl, "logic", None)
    Logic.tl.logic = object.__new__(Logic)
    pyEngine.clear()
    try:
        x = pyEngine.Var("X")
        for fact, who in (("person", "ann"), ("person", "bob"), ("friend", "bob")):
            pyEngine.assert_(pyEngine.Clause(pyEngine.Literal(fact, [pyEngine.Const(who)]), []))
        pyEngine.assert_(pyEngine.Clause(pyEngine.Literal("lonely", [x]),
                                         [pyEngine.Literal("~friend", [x]), pyEngine.Literal("person", [x])]))
        assert pyEngine.Literal("lonely", [pyEngine.Var("Y")]).ask() in ([], None)  # ann is lonely, yet nothing
    finally:
        Logic.tl.logic = previous


def test_negation_through_recursion_is_refused_with_its_line(tmp_path: Path) -> None:
    program = "node(a). node(b).\nwin(X) :- move(X, Y), not win(Y).\n"
    with pytest.raises(TranslationError) as error:
        translate(_policy(tmp_path, program))
    assert error.value.where == "main.lp:2" and "not stratified" in error.value.message


def test_count_through_recursion_is_refused(tmp_path: Path) -> None:
    program = "p(X) :- q(X), #count{ Y : p(Y) } < 2.\n"
    with pytest.raises(TranslationError) as error:
        translate(_policy(tmp_path, program))
    assert error.value.where == "main.lp:1"


def test_positive_recursion_is_evaluated(tmp_path: Path) -> None:
    program = "reach(X, Y) :- edge(X, Y).\nreach(X, Z) :- reach(X, Y), edge(Y, Z).\n#show reach/2."
    expected, got = _both(tmp_path, program, "edge(a,b) edge(b,c) edge(c,a)")
    assert got == expected and len(got) == 9


def test_one_engine_answers_from_several_threads_at_once(tmp_path: Path) -> None:
    program = "q(X) :- p(X), not r(X).\n#show q/1."
    engine = DatalogEngine(translate(_policy(tmp_path, program)))
    errors: list[str] = []

    def work(name: str) -> None:
        for i in range(40):
            facts = _facts(f"p({name}{i}) p({name}x) r({name}x)")
            got = engine.answer(facts).atoms
            if got != _atoms(f"q({name}{i})"):
                errors.append(f"{name}{i}: {sorted(map(str, got))}")

    threads = [threading.Thread(target=work, args=(name,)) for name in ("a", "b", "c", "d")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# ---------------------------------------------------------------- the fragment

def test_conditional_literal_holds_only_when_every_condition_is_met(tmp_path: Path) -> None:
    program = ("crit(a;b).\nall_met(C) :- child(C), met(C, K) : crit(K).\n"
               "none_missing(C) :- child(C), not met(C, K) : crit(K), never(K).\n"
               "#show all_met/1. #show none_missing/1.")
    expected, got = _both(tmp_path, program, "child(x) child(y) met(x,a) met(x,b) met(y,a)")
    assert got == expected == _atoms("all_met(x) none_missing(x) none_missing(y)")


def test_arithmetic_follows_clingo(tmp_path: Path) -> None:
    program = ("r(X, X+1, X-3, X*2, X/2, X\\2, X**2, -X, |X|) :- n(X).\nz(X) :- n(X), Y = 10 / X, Y > 2.\n"
               "f(X, g(X, \"s\")) :- n(X), X != 0.\nbad(X) :- n(X), Y = X + a, Y > 0.\n"
               "#show r/9. #show z/1. #show f/2. #show bad/1.")
    expected, got = _both(tmp_path, program, "n(-7) n(0) n(3) n(2147483647)")
    assert got == expected
    assert clingo.parse_term("z(3)") in got and not any(a.name == "bad" for a in got)


def test_pools_intervals_constants_and_show_terms(tmp_path: Path) -> None:
    program = ("#const limit = 3.\nlevel(1..limit).\nkind(red; blue).\npair(L, K) :- level(L), kind(K), L < limit.\n"
               "#show pair/2.\n#show big(L) : level(L), L >= limit.")
    expected, got = _both(tmp_path, program, "")
    assert got == expected and clingo.parse_term("big(3)") in got and len(got) == 5


def test_integrity_constraint_is_reported_as_no_answer(tmp_path: Path) -> None:
    program = ":- p(X), q(X).\n#show p/1."
    engine = DatalogEngine(translate(_policy(tmp_path, program)))
    assert engine.answer(_facts("p(a) q(a)")).violated == ("main.lp:1",)
    assert engine.answer(_facts("p(a) q(b)")).violated == ()


def test_choice_rule_stops_the_translation_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(TranslationError) as error:
        translate(_policy(tmp_path, "a.\n{ b } :- a.\n"))
    assert error.value.where == "main.lp:2" and "choice rule" in error.value.message


def test_sum_aggregate_stops_the_translation(tmp_path: Path) -> None:
    with pytest.raises(TranslationError) as error:
        translate(_policy(tmp_path, "total(S) :- S = #sum{ X : n(X) }.\n"))
    assert error.value.where == "main.lp:1"


def test_an_exempt_predicate_is_listed_and_its_rules_left_out(tmp_path: Path) -> None:
    translation = translate(_policy(tmp_path, "a.\n{ b } :- a.\nc :- b.\n"), {"b/0": "a free choice"})
    assert "b/0 (main.lp:2): a free choice" in translation.describe()
    assert [c.head.pred for c in translation.clauses] == ["a", "c"]


def test_a_stale_exemption_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TranslationError):
        translate(_policy(tmp_path, "a.\n"), {"gone/1": "no longer in the policy"})


def test_every_rule_of_the_shipped_policy_is_translated() -> None:
    policy = Policy()
    translation = translate(policy)
    translated_lines = {c.where for c in translation.clauses}
    assert {r.where for r in policy.rules} <= translated_lines
    assert translation.exemptions == ()


def test_counts_that_assign_are_negated_or_feed_a_comparison(tmp_path: Path) -> None:
    program = ("many(N) :- N = #count{ X : q(X) }, N > 1.\nper(D, N) :- d(D), N = #count{ I : r(D, I) }.\n"
               "few(D) :- d(D), not #count{ I : r(D, I) } >= 2.\n"
               "small(D) :- d(D), X < 3 : r(D, X).\n#show many/1. #show per/2. #show few/1. #show small/1.")
    expected, got = _both(tmp_path, program, "q(a) q(b) q(c) d(x) d(y) d(z) r(x,1) r(x,5) r(y,2)")
    assert got == expected
    assert _atoms("many(3) per(x,2) per(y,1) per(z,0) few(y) few(z) small(y) small(z)") == got


def test_terms_of_every_kind_match_and_compare_as_in_clingo(tmp_path: Path) -> None:
    program = ("v(1; a; \"a\"; f(a); (1, b); -a).\nlt(X, Y) :- v(X), v(Y), X < Y.\n"
               "inner(X) :- w(f(X)).\nsame(X) :- w(X), X = f(Y), v(Y).\npart(B) :- v(T), T = (1, B).\n"
               "any(X) :- w(X), v(_).\nno_f(X) :- v(X), not w(f(X)).\nsize(X) :- v(X), X != a, X >= \"a\".\n"
               "#show lt/2. #show inner/1. #show same/1. #show part/1. #show any/1. #show no_f/1. #show size/1.")
    expected, got = _both(tmp_path, program, 'w(f(a)) w(f(1)) w(g)')
    assert got == expected and len([a for a in got if a.name == "lt"]) == 15


def _random_program(rng: random.Random) -> tuple[str, str]:
    """A small stratified program (layered predicates) and facts, drawn at random."""
    values = ["a", "b", "1", "2", "f(a)", "f(1)", "(1,b)", '"s"']
    facts = " ".join(f"e{i}({rng.choice(values)},{rng.choice(values)})" for i in range(2) for _ in range(4))
    facts += " " + " ".join(f"u({v})" for v in rng.sample(values, 4))
    rules = []
    defined = ["e0/2", "e1/2", "u/1"]
    for layer in range(4):
        head = f"p{layer}"
        for _ in range(2):
            pos = rng.choice([d for d in defined if d.endswith("/2")])
            body = [f"{pos.split('/')[0]}(X, Y)"]
            if rng.random() < 0.5:
                body.append(f"u({rng.choice(['X', 'Y'])})")
            other = rng.choice(defined)
            name, arity = other.split("/")
            kind = rng.random()
            if kind < 0.3:
                body.append(f"not {name}({'X' if arity == '1' else 'Y, X'})")
            elif kind < 0.5:
                body.append(f"{rng.choice(['X', 'Y'])} {rng.choice(['<', '!=', '>=', '='])} {rng.choice(values)}")
            elif kind < 0.65:
                body.append(f"u(Z) : {name}({'Z' if arity == '1' else 'X, Z'})")
            elif kind < 0.8:
                body.append(f"#count{{ Z : {name}({'Z' if arity == '1' else 'Z, X'}) }} {rng.choice(['>=', '<'])} 2")
            else:
                body.append(f"{name}({'_' if arity == '1' else '_, Y'})")
            rules.append(f"{head}(X, Y) :- {', '.join(body)}.")
        defined.append(f"{head}/2")
    shows = " ".join(f"#show p{i}/2." for i in range(4))
    return "\n".join(rules) + "\n" + shows, facts


def test_random_stratified_programs_agree_with_clingo(tmp_path: Path) -> None:
    rng = random.Random(8)
    for index in range(40):
        program, facts = _random_program(rng)
        folder = tmp_path / str(index)
        folder.mkdir()
        expected, got = _both(folder, program, facts)
        assert got == expected, program
