"""Regression scenarios for policy authors: the scenario format, its validation, and
running scenarios against a policy.

A scenario file (YAML) holds one scenario, a list of them, or a mapping with
``scenarios:`` and a shared base case (``case:`` inline or ``facts:`` a file in facts/)
that each scenario may change with ``override:``. A scenario states only what it is
about: its title (a sentence with "should"), the paragraphs it is about, and
expectations per disclosure id::

    title: A 16-year-old should decide about their own information
    paragraphs: ["3.3.15"]
    facts: teacher-counselling-disclosure.yaml
    override: {child: {age: 16, understanding: null}}
    expect:
      to-social-care:
        verdict: undetermined
        findings: ["can_decide_for_self(amy, aged_16_or_over)"]
        absent_findings: [understanding_expected]
        obligations: {"explain_sharing_without_consent": depends}
        depends_on: ["disclosures[0].judgements.public_interest_sufficient"]

``override`` changes what the base case states; the people, information, consents and
other entities it names by ``id`` must be in the base case. A new entity goes under
``add:`` (same shape, ids the base case does not have), so a misspelt id is an error
rather than a new person.

A finding or obligation is written as its label, ``code(arg, ...)``; ``_`` matches any
argument and a bare ``code`` matches any arguments. Listed findings must hold (status
``yes``) unless a mapping gives the status (``yes``, ``depends`` or ``no``); absent ones
must not hold in any completion of the case. Comparing is Python's job; every
conclusion compared comes from the rules.
"""

from __future__ import annotations

import copy
import functools
import difflib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import yaml
from clingo import ast

from ..core.atoms import case_inputs
from ..core.case import Case, parse_document
from ..errors import CaseError, PyispError, ScenarioError
from ..core.policy import Policy, Rule, paragraph_key
from ..core.result import DEPENDS, NO, VERDICTS, YES, Conclusion, Disclosure, Result
from ..core.service import answer_case, engine_for

SCENARIO_KEYS = ("title", "paragraphs", "case", "facts", "override", "add", "readings", "presumptions", "expect")
FILE_KEYS = ("about", "case", "facts", "readings", "scenarios")
EXPECT_KEYS = ("verdict", "permitted", "required", "paragraphs", "findings", "absent_findings",
               "obligations", "absent_obligations", "depends_on", "assumptions")
STATUSES = (YES, DEPENDS, NO)
OUTPUT_KINDS = ("finding", "obligation")  # what show.lp reports besides the verdict: kind(D, code)
DEPENDENCY_KEYS = ("when", "verdict")
PARAGRAPH = re.compile(r"^\d+\.\d+(\.\d+)?$")
LABEL = re.compile(r"^\s*([a-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")


# ------------------------------------------------------------------ the format

@dataclass(frozen=True)
class Pattern:
    """An expected finding or obligation: a code and, optionally, arguments (None = any)."""

    code: str
    args: tuple[str, ...] | None
    arity: int = 0

    @property
    def text(self) -> str:
        return self.code if self.args is None else f"{self.code}({', '.join(self.args)})"

    @property
    def label(self) -> str:
        """The pattern with every argument written out (``_`` for any), as explanations take it."""
        args = self.args if self.args is not None else ("_",) * self.arity
        return f"{self.code}({', '.join(args)})" if args else self.code

    def matches(self, conclusion: Conclusion) -> bool:
        if conclusion.code != self.code:
            return False
        if self.args is None:
            return True
        return len(self.args) == len(conclusion.args) and all(
            want == "_" or want == got for want, got in zip(self.args, conclusion.args))


@dataclass(frozen=True)
class DependencyPattern:
    """An expected entry of depends_on: a field path that some deciding set names, or a
    deciding set (its paths and a value of each) with the verdict it would give."""

    when: tuple[tuple[str, Any], ...]
    verdict: str | None = None
    path_only: bool = False

    @property
    def text(self) -> str:
        if self.path_only:
            return self.when[0][0]
        cond = " and ".join(f"{path} = {_value_text(value)}" for path, value in self.when)
        return f"if {cond}" + (f" then {self.verdict}" if self.verdict else "")


@dataclass(frozen=True)
class Expectation:
    """What a scenario expects of one disclosure; every field is optional."""

    disclosure: str
    verdict: str | None = None
    permitted: str | None = None
    required: str | None = None
    paragraphs: tuple[str, ...] | None = None
    findings: tuple[tuple[Pattern, str], ...] = ()
    obligations: tuple[tuple[Pattern, str], ...] = ()
    depends_on: tuple[DependencyPattern, ...] | None = None
    assumptions: tuple[str, ...] | None = None  # presumptions the verdict must rest on


@dataclass(frozen=True)
class Scenario:
    """One scenario: a validated case and what is expected of its answer."""

    title: str
    paragraphs: tuple[str, ...]
    case: Case = field(repr=False)
    expectations: tuple[Expectation, ...]
    source: str
    line: int
    index: int | None = None
    readings: tuple[tuple[str, str], ...] = ()
    presumptions_off: frozenset[str] = frozenset()  # presumptions the scenario switches off

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    @property
    def needs_depends_on(self) -> bool:
        return any(e.depends_on is not None for e in self.expectations)


def _value_text(value: Any) -> str:
    if value is None:
        return "unstated"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _split_args(text: str) -> list[str]:
    args, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            args.append(current.strip())
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    args.append(current.strip())
    return args


def output_codes(policy: Policy) -> dict[str, dict[str, int]]:
    """The codes of findings and obligations the policy can report, with their arity,
    read from the heads of show.lp."""
    codes: dict[str, dict[str, int]] = {"finding": {}, "obligation": {}}
    for _rule, kind, term in _reported(policy):
        if term.ast_type == ast.ASTType.Function:
            codes[kind][term.name] = len(term.arguments)
        elif term.ast_type == ast.ASTType.SymbolicTerm:
            codes[kind][str(term.symbol)] = 0
    return codes


def _reported(policy: Policy) -> Iterator[tuple[Rule, str, Any]]:
    """Each rule of show.lp that reports a finding or an obligation, with which (`finding`
    or `obligation`) and its code term (AST)."""
    for rule in policy.output_rules:
        head = rule.node.head
        if head.ast_type != ast.ASTType.Literal or head.atom.ast_type != ast.ASTType.SymbolicAtom:
            continue
        symbol = head.atom.symbol
        if symbol.ast_type == ast.ASTType.Function and symbol.name in OUTPUT_KINDS and len(symbol.arguments) == 2:
            yield rule, symbol.name, symbol.arguments[1]


def codes_markdown(policy: Policy) -> str:
    """The finding and obligation codes the policy can report, with their arity, as the
    Markdown list of docs/authoring.md (tests/test_check.py keeps the two the same)."""
    lines = []
    for kind, codes in output_codes(policy).items():
        names = ", ".join(f"`{name}`" if arity == 0 else f"`{name}/{arity}`" for name, arity in sorted(codes.items()))
        lines.append(f"- {len(codes)} {kind} codes: {names}")
    return "\n".join(lines)


class _Reader:
    """Validates one scenario file, naming the file, line and field of each problem."""

    def __init__(self, path: Path, policy: Policy, lines: dict[str, int]) -> None:
        self.path = path
        self.policy = policy
        self.codes = output_codes(policy)
        self.lines = lines
        self.chapter = chapter_paragraphs(policy)
        self.constants = policy_constants(policy)
        self.case_ids: list[str] = []

    def paragraph(self, number: Any, where: str) -> str:
        """A paragraph number of the chapter (policy/traceability.yaml lists them)."""
        if not isinstance(number, str) or not PARAGRAPH.match(number):
            raise self.error(f"{number!r} is not a paragraph number (write it quoted, as \"3.3.15\")", where)
        if self.chapter and number not in self.chapter:
            raise self.error(f"the chapter has no paragraph {number}{_suggest(number, self.chapter)}", where)
        return number

    def error(self, message: str, field_path: str) -> ScenarioError:
        line = self.lines.get(field_path)
        while line is None and field_path:
            field_path_parent = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", field_path)
            if field_path_parent == field_path:
                break
            field_path = field_path_parent
            line = self.lines.get(field_path)
        where = f"{self.path}:{line}" if line else str(self.path)
        return ScenarioError(message, where=f"{where}: {field_path}" if field_path else where)

    # -- the file -------------------------------------------------------------------
    def scenarios(self, data: Any) -> list[Scenario]:
        if isinstance(data, list):
            return [self.scenario(item, f"[{i}]", None, i) for i, item in enumerate(data)]
        if not isinstance(data, dict):
            raise self.error("a scenario file holds a scenario, a list of scenarios, or 'scenarios:'", "")
        if "scenarios" not in data:
            return [self.scenario(data, "", None, None)]
        for key in data:
            if key not in FILE_KEYS:
                raise self.error(f"unknown key '{key}'{_suggest(key, FILE_KEYS)}; a file with 'scenarios:' may also "
                                 "give a shared 'case' or 'facts' and 'about'", str(key))
        items = data["scenarios"]
        if not isinstance(items, list) or not items:
            raise self.error("must be a non-empty list of scenarios", "scenarios")
        if "case" in data and "facts" in data:
            raise self.error("give either a shared 'case' or 'facts', not both", "facts")
        base = self.base_case(data, "") if ("case" in data or "facts" in data) else None
        shared = self.readings(data.get("readings"), "readings") if "readings" in data else {}
        return [self.scenario(item, f"scenarios[{i}]", base, i, shared) for i, item in enumerate(items)]

    def readings(self, value: Any, where: str) -> dict[str, str]:
        """Chosen alternatives of named readings (policy/readings.lp), checked against the policy."""
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self.error("must map reading names to alternatives (pyisp readings lists them)", where)
        try:
            from ..core.reading import readings as policy_readings
        except ImportError:
            raise self.error("this version of pyisp has no readings", where) from None
        known = {r.name: r.values for r in policy_readings(self.policy)}
        for name, choice in value.items():
            if name not in known:
                raise self.error(f"the policy has no reading '{name}'{_suggest(name, known)}", _join(where, str(name)))
            if choice not in known[name]:
                raise self.error(f"'{choice}' is not an alternative of reading '{name}': {', '.join(known[name])}"
                                 f"{_suggest(choice, known[name])}", _join(where, str(name)))
        return {str(k): v for k, v in value.items()}

    def base_case(self, data: Mapping[str, Any], prefix: str) -> tuple[dict[str, Any], str]:
        if "case" in data:
            case = data["case"]
            if not isinstance(case, dict):
                raise self.error("must be a case (a mapping)", _join(prefix, "case"))
            return copy.deepcopy(case), _join(prefix, "case")
        name = data["facts"]
        if not isinstance(name, str):
            raise self.error("must name a file in facts/", _join(prefix, "facts"))
        found = self.find_facts(name)
        if found is None:
            raise self.error(f"no file '{name}' beside the scenario or in a facts/ folder above it",
                             _join(prefix, "facts"))
        try:
            text = found.read_text(encoding="utf-8")
            case = parse_document(text, str(found))
        except (OSError, CaseError) as exc:
            raise self.error(f"cannot read {found}: {exc}", _join(prefix, "facts")) from None
        if not isinstance(case, dict):
            raise self.error(f"{found} is not a case", _join(prefix, "facts"))
        return case, str(found)

    def find_facts(self, name: str) -> Path | None:
        here = self.path.resolve().parent
        if (here / name).is_file():
            return here / name
        for folder in (here, *here.parents):
            if (folder / "facts" / name).is_file():
                return folder / "facts" / name
        return None

    # -- one scenario ----------------------------------------------------------------
    def scenario(self, data: Any, prefix: str, base: tuple[dict[str, Any], str] | None,
                 index: int | None, shared: Mapping[str, str] | None = None) -> Scenario:
        if not isinstance(data, dict):
            raise self.error("a scenario must be a mapping with title, paragraphs, a case and expect", prefix)
        for key in data:
            if key not in SCENARIO_KEYS:
                raise self.error(f"unknown scenario key '{key}'{_suggest(key, SCENARIO_KEYS)}", _join(prefix, key))
        for key in ("title", "paragraphs", "expect"):
            if key not in data:
                raise self.error(f"'{key}' is required", _join(prefix, key))
        title = data["title"]
        if not isinstance(title, str) or not re.search(r"\bshould\b", title):
            raise self.error("the title must be a sentence saying what should happen (with 'should')",
                             _join(prefix, "title"))
        paragraphs = data["paragraphs"]
        if not isinstance(paragraphs, list) or not paragraphs:
            raise self.error("must be a non-empty list of paragraph numbers such as \"3.3.15\"",
                             _join(prefix, "paragraphs"))
        for i, number in enumerate(paragraphs):
            self.paragraph(number, _join(prefix, f"paragraphs[{i}]"))
        if "case" in data and "facts" in data:
            raise self.error("give either 'case' or 'facts', not both", _join(prefix, "facts"))
        if "case" in data or "facts" in data:
            case_data, origin = self.base_case(data, prefix)
        elif base is not None:
            case_data, origin = copy.deepcopy(base[0]), base[1]
        else:
            raise self.error("needs a case: 'case' (inline) or 'facts' (a file in facts/)", prefix)
        for key in ("add", "override"):
            if key not in data:
                continue
            if not isinstance(data[key], dict):
                raise self.error("must be a mapping of case fields", _join(prefix, key))
            problem = entity_ids(case_data, data[key], new=key == "add")
            if problem:
                path, ident, known = problem
                where = _join(_join(prefix, key), path)
                if key == "add":
                    raise self.error(f"the base case already has '{ident}': change it under 'override:'", where)
                raise self.error(f"the base case has no '{ident}'{_suggest(ident, known)}"
                                 f"{'; it has: ' + ', '.join(known) if known else ''}. "
                                 "To add one, put it under 'add:'", where)
            case_data = merge(case_data, data[key])
        try:
            case = Case.from_dict(case_data, source=str(self.path))
        except CaseError as exc:
            raise self.case_error(exc, prefix, data, origin) from None
        chosen = dict(shared or {})
        if "readings" in data:
            chosen.update(self.readings(data["readings"], _join(prefix, "readings")))
        expectations = self.expectations(data["expect"], _join(prefix, "expect"), case)
        line = self.lines.get(prefix, 1)
        off = self.presumptions(data["presumptions"], _join(prefix, "presumptions")) if "presumptions" in data \
            else frozenset()
        return Scenario(title.strip(), tuple(paragraphs), case, expectations, str(self.path), line, index,
                        tuple(sorted(chosen.items())), off)

    def presumptions(self, value: Any, where: str) -> frozenset[str]:
        """The presumptions a scenario switches off: `false` (all of them: a strict answer)
        or a mapping of presumption names to false."""
        from ..core.presumption import PresumptionError, switched_off

        if value is False:
            return switched_off(self.policy, None, strict=True)
        if not isinstance(value, dict):
            raise self.error("must be false (no presumptions) or map presumption names to false", where)
        try:
            return switched_off(self.policy, value)
        except PresumptionError as exc:
            raise self.error(exc.message, where) from None

    def case_error(self, exc: CaseError, prefix: str, data: Mapping[str, Any], origin: str) -> ScenarioError:
        """Name the field of a bad case where the author wrote it: in the inline case, in
        the override, or in the facts file the scenario refers to."""
        field_path = exc.where or ""
        if origin == _join(prefix, "case") or origin == "case":
            return self.error(exc.message, _join(origin, field_path) if field_path else origin)
        if "override" in data and _has_path(data["override"], field_path):
            return self.error(exc.message, _join(_join(prefix, "override"), field_path))
        return self.error(f"in the case from {origin}: {field_path}: {exc.message}" if field_path
                          else f"in the case from {origin}: {exc.message}", _join(prefix, "facts"))

    def expectations(self, data: Any, where: str, case: Case) -> tuple[Expectation, ...]:
        ids = [d["id"] for d in case.data["disclosures"]]
        if not isinstance(data, dict) or not data:
            raise self.error("must map disclosure ids to expectations", where)
        unknown_paths = [u.path for u in case_inputs(dict(case.data)).unknowns]
        self.case_ids = sorted(_ids(case.data))
        out = []
        for ident, spec in data.items():
            here = _join(where, str(ident))
            if ident not in ids:
                raise self.error(f"the case has no disclosure '{ident}'{_suggest(ident, ids)}; "
                                 f"its disclosures are: {', '.join(ids)}", here)
            if not isinstance(spec, dict):
                raise self.error("must be a mapping of expectations", here)
            out.append(self.expectation(str(ident), spec, here, unknown_paths))
        return tuple(out)

    def expectation(self, ident: str, spec: Mapping[str, Any], where: str, unknowns: list[str]) -> Expectation:
        values: dict[str, Any] = {}
        for key, value in spec.items():
            here = _join(where, str(key))
            if key not in EXPECT_KEYS:
                raise self.error(f"unknown expectation key '{key}'{_suggest(key, EXPECT_KEYS)}", here)
            if key == "verdict":
                values[key] = self.choice(value, VERDICTS, here)
            elif key in ("permitted", "required"):
                values[key] = self.choice(_status_word(value), STATUSES, here)
            elif key == "paragraphs":
                if not isinstance(value, list):
                    raise self.error("must be a list of quoted paragraph numbers", here)
                values[key] = tuple(self.paragraph(p, f"{here}[{i}]") for i, p in enumerate(value))
            elif key == "depends_on":
                values[key] = self.dependencies(value, here, unknowns)
            elif key == "assumptions":
                from ..core.presumption import presumptions

                known = [p.name for p in presumptions(self.policy)]
                if not isinstance(value, list):
                    raise self.error("must be a list of presumption names (pyisp presumptions lists them)", here)
                for i, name in enumerate(value):
                    if name not in known:
                        raise self.error(f"the policy has no presumption '{name}'{_suggest(str(name), known)}",
                                         _join(here, f"[{i}]"))
                values[key] = tuple(value)
        findings = self.conclusions(spec, "findings", "finding", where)
        obligations = self.conclusions(spec, "obligations", "obligation", where)
        return Expectation(ident, findings=findings, obligations=obligations, **values)

    def choice(self, value: Any, options: Sequence[str], where: str) -> str:
        if value not in options:
            raise self.error(f"{value!r} is not one of {', '.join(options)}{_suggest(value, options)}", where)
        return str(value)

    def conclusions(self, spec: Mapping[str, Any], key: str, kind: str, where: str) -> tuple[tuple[Pattern, str], ...]:
        out: list[tuple[Pattern, str]] = []
        for name, default in ((key, YES), (f"absent_{key}", NO)):
            if name not in spec:
                continue
            here = _join(where, name)
            value = spec[name]
            if isinstance(value, dict) and name == key:
                items = [(label, self.choice(_status_word(status), STATUSES, _join(here, str(label))))
                         for label, status in value.items()]
            elif isinstance(value, list):
                items = [(label, default) for label in value]
            else:
                raise self.error(f"must be a list of {kind} labels" + (
                    " or a mapping of label to yes/depends/no" if name == key else ""), here)
            for i, (label, status) in enumerate(items):
                out.append((self.pattern(label, kind, f"{here}[{i}]"), status))
        return tuple(out)

    def pattern(self, label: Any, kind: str, where: str) -> Pattern:
        match = LABEL.match(label) if isinstance(label, str) else None
        if not match:
            raise self.error(f"{label!r} is not a {kind} label such as code(arg, ...)", where)
        code, inner = match.group(1), match.group(2)
        codes = self.codes[kind]
        if code not in codes:
            raise self.error(f"the policy has no {kind} '{code}'{_suggest(code, codes)}", where)
        args = None if inner is None else tuple(_split_args(inner)) if inner.strip() else ()
        if args is not None and len(args) != codes[code]:
            raise self.error(f"{kind} '{code}' takes {codes[code]} argument(s), not {len(args)}", where)
        for arg in args or ():
            for word in re.findall(r"[^\s(),]+", arg):
                if word == "_" or word in self.constants or word in self.case_ids or re.fullmatch(r"-?\d+", word):
                    continue
                raise self.error(f"'{word}' in {label!r} is neither an id of the case nor a value the rules use"
                                 f"{_suggest(word, [*self.case_ids, *self.constants])}; the case's ids: "
                                 f"{', '.join(self.case_ids)}", where)
        return Pattern(code, args, codes[code])

    def dependencies(self, value: Any, where: str, unknowns: list[str]) -> tuple[DependencyPattern, ...]:
        if not isinstance(value, list):
            raise self.error("must be a list of field paths or of {when: {path: value}, verdict: ...}", where)
        out = []
        for i, item in enumerate(value):
            here = f"{where}[{i}]"
            if isinstance(item, str):
                self.unknown_path(item, here, unknowns)
                out.append(DependencyPattern(((item, None),), path_only=True))
                continue
            if not isinstance(item, dict):
                raise self.error("must be a field path or {when: {path: value}, verdict: ...}", here)
            for key in item:
                if key not in DEPENDENCY_KEYS:
                    raise self.error(f"unknown key '{key}'{_suggest(key, DEPENDENCY_KEYS)}", _join(here, str(key)))
            when = item.get("when")
            if not isinstance(when, dict) or not when:
                raise self.error("'when' must map field paths to values", _join(here, "when"))
            for path in when:
                self.unknown_path(str(path), _join(here, "when"), unknowns)
            verdict = self.choice(item["verdict"], VERDICTS, _join(here, "verdict")) if "verdict" in item else None
            out.append(DependencyPattern(tuple((str(k), v) for k, v in when.items()), verdict))
        return tuple(out)

    def unknown_path(self, path: str, where: str, unknowns: list[str]) -> None:
        if path not in unknowns:
            raise self.error(f"'{path}' is not a fact this case leaves unknown{_suggest(path, unknowns)}", where)


def chapter_paragraphs(policy: Policy) -> frozenset[str]:
    """The chapter's paragraph numbers (policy/traceability.yaml); empty when the policy has no map."""
    from .trace import MAP_FILE, load_map

    if not (policy.directory / MAP_FILE).is_file():
        return frozenset()
    return frozenset(load_map(policy))


@functools.lru_cache(maxsize=8)
def policy_constants(policy: Policy) -> frozenset[str]:
    """Every name written in the rule files (constants, predicates): what an argument of an
    expected finding may be besides an id of the case."""
    words: set[str] = set()
    for path in policy.directory.glob("*.lp"):
        for line in path.read_text(encoding="utf-8").splitlines():
            words.update(re.findall(r"\b[a-z][A-Za-z0-9_]*\b", line.split("%", 1)[0]))
    return frozenset(words)


def _ids(data: Any) -> set[str]:
    """The ids of every entity of a case (child, people, information, consents, disclosures, ...)."""
    found: set[str] = set()
    if isinstance(data, dict):
        if isinstance(data.get("id"), str):
            found.add(data["id"])
        for value in data.values():
            found |= _ids(value)
    elif isinstance(data, list):
        for item in data:
            found |= _ids(item)
    return found


def entity_ids(base: Any, change: Any, new: bool, path: str = "") -> tuple[str, str, list[str]] | None:
    """The first entity (an item with an id) of `change` whose id the base case lacks (or,
    with `new`, already has), as (path, id, the base's ids there); None when all is well."""
    if isinstance(change, dict):
        for key, value in change.items():
            inner = base.get(key) if isinstance(base, dict) else None
            found = entity_ids(inner, value, new, _join(path, str(key)))
            if found:
                return found
        return None
    if isinstance(change, list) and change and all(isinstance(x, dict) and "id" in x for x in change):
        have = {x["id"]: x for x in base if isinstance(x, dict) and "id" in x} if isinstance(base, list) else {}
        for i, item in enumerate(change):
            here = f"{path}[{i}].id"
            if new and item["id"] in have:
                return here, str(item["id"]), sorted(map(str, have))
            if not new:
                if item["id"] not in have:
                    return here, str(item["id"]), sorted(map(str, have))
                found = entity_ids(have[item["id"]], item, new, f"{path}[{i}]")
                if found:
                    return found
    return None


def _has_path(data: Any, field_path: str) -> bool:
    """Whether a field path such as ``people[0].role`` or ``child.age`` is written in data
    (list items of an override are matched by position in the merged case, so a path
    into a list counts when the override gives that list)."""
    node = data
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", field_path):
        if part.startswith("["):
            return isinstance(node, list)
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _status_word(value: Any) -> Any:
    """YAML reads yes/no as booleans: take them back as the status words."""
    if value is True:
        return YES
    if value is False:
        return NO
    return value


def _join(prefix: str, key: str) -> str:
    if not prefix:
        return key
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


def merge(base: Any, override: Any) -> Any:
    """The case with the override applied: mappings merge key by key, lists of entities
    merge item by item by id (new ids are added), anything else is replaced; null makes
    a field unknown."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    if (isinstance(base, list) and isinstance(override, list) and override
            and all(isinstance(x, dict) and "id" in x for x in override)
            and all(isinstance(x, dict) and "id" in x for x in base)):
        out_list = [copy.deepcopy(x) for x in base]
        positions = {x["id"]: i for i, x in enumerate(out_list)}
        for item in override:
            if item["id"] in positions:
                out_list[positions[item["id"]]] = merge(out_list[positions[item["id"]]], item)
            else:
                out_list.append(copy.deepcopy(item))
        return out_list
    return copy.deepcopy(override)


def _line_map(text: str) -> dict[str, int]:
    """Field path -> 1-based line, for every node of a YAML document."""
    lines: dict[str, int] = {}
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return lines

    def walk(node: Any, path: str) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = _join(path, str(key.value))
                lines[child] = key.start_mark.line + 1
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                walk(value, f"{path}[{i}]")

    if root is not None:
        walk(root, "")
    return lines


def scenario_files(paths: Sequence[str | Path]) -> list[Path]:
    """The scenario files under the given files or folders (*.yaml, *.yml), sorted."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        elif path.is_file():
            files.append(path)
        else:
            raise ScenarioError("no such file or folder", where=str(path))
    return files


def load_file(path: str | Path, policy: Policy | None = None) -> list[Scenario]:
    """The scenarios of one file; raises ScenarioError naming file:line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror}", where=str(path)) from None
    try:
        data = parse_document(text, str(path))
    except CaseError as exc:
        raise ScenarioError(exc.message, where=exc.where) from None
    reader = _Reader(path, policy or engine_for(None).policy, _line_map(text))
    return reader.scenarios(data)


def load(paths: Sequence[str | Path], policy: Policy | None = None) -> list[Scenario]:
    """Every scenario under the paths (files or folders)."""
    out: list[Scenario] = []
    for path in scenario_files(paths):
        out += load_file(path, policy)
    if not out:
        raise ScenarioError("no scenario files found", where=", ".join(str(p) for p in paths))
    return out


# ------------------------------------------------------------------ running

@dataclass(frozen=True)
class Check:
    """One expectation compared with the answer."""

    disclosure: str
    key: str
    expected: str
    got: str
    passed: bool
    paragraphs: tuple[str, ...] = ()
    why: str | None = None       # a conclusion whose presence explains a failure
    why_not: str | None = None   # a conclusion whose absence explains a failure


@dataclass(frozen=True)
class Outcome:
    """A scenario run: the answer, each check, and how long it took."""

    scenario: Scenario
    result: Result
    checks: tuple[Check, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)


def chosen_readings(scenario: Scenario, readings: Mapping[str, str] | None = None) -> dict[str, str]:
    """The readings a scenario runs under: those given for the whole run (`pyisp test
    --reading`), except where the scenario chooses its own."""
    return {**(readings or {}), **dict(scenario.readings)}


def run_scenario(scenario: Scenario, policy: str | Path | None = None,
                 readings: Mapping[str, str] | None = None) -> Outcome:
    """Answer the scenario's case (under its readings) and compare each expectation."""
    start = time.perf_counter()
    chosen = chosen_readings(scenario, readings)
    extra: dict[str, Any] = {"readings": chosen} if chosen else {}
    if scenario.presumptions_off:
        extra["presumptions"] = dict.fromkeys(scenario.presumptions_off, False)
    result = answer_case(scenario.case, policy=policy, depends_on=scenario.needs_depends_on, **extra)
    engine = engine_for(policy)
    checks: list[Check] = []
    for expectation in scenario.expectations:
        checks += compare(expectation, result.disclosure(expectation.disclosure), engine.policy)
    return Outcome(scenario, result, tuple(checks), time.perf_counter() - start)


def run(scenarios: Sequence[Scenario], policy: str | Path | None = None,
        readings: Mapping[str, str] | None = None) -> list[Outcome]:
    """Run scenarios in order."""
    return [run_scenario(s, policy, readings) for s in scenarios]


def _conclusion_text(items: Iterable[Conclusion]) -> str:
    shown = [f"{c.label} ({c.status})" for c in items]
    return ", ".join(shown) if shown else "nothing"


def compare(expectation: Expectation, got: Disclosure, policy: Policy) -> list[Check]:
    """The checks of one disclosure's expectations against its answer."""
    checks: list[Check] = []
    ident = expectation.disclosure
    for key in ("verdict", "permitted", "required"):
        want = getattr(expectation, key)
        if want is not None:
            value = getattr(got, key)
            checks.append(Check(ident, key, want, value, want == value, got.paragraphs))
    if expectation.paragraphs is not None:
        missing = [p for p in expectation.paragraphs if p not in got.paragraphs]
        checks.append(Check(ident, "paragraphs", ", ".join(expectation.paragraphs), ", ".join(got.paragraphs),
                            not missing, tuple(expectation.paragraphs)))
    for kind, wanted, present in (("finding", expectation.findings, got.findings),
                                  ("obligation", expectation.obligations, got.obligations)):
        for pattern, status in wanted:
            matching = [c for c in present if pattern.matches(c)]
            got_text = _conclusion_text(matching) if matching else "absent"
            why = matching[0].label if matching else None
            if status == NO:
                checks.append(Check(ident, f"absent {kind}", pattern.text, got_text, not matching,
                                    _paragraphs_of(pattern, kind, policy), why=why))
            else:
                same = [c for c in matching if c.status == status]
                paragraphs = tuple(sorted({p for c in (same or matching) for p in c.paragraphs}, key=paragraph_key))
                checks.append(Check(ident, kind, f"{pattern.text} ({status})", got_text, bool(same),
                                    paragraphs or _paragraphs_of(pattern, kind, policy),
                                    why=why, why_not=None if matching else pattern.label))
    if expectation.depends_on is not None:
        checks += _dependency_checks(expectation, got)
    if expectation.assumptions is not None:
        rests_on = sorted({a.name for a in got.assumptions})
        checks.append(Check(ident, "assumptions", ", ".join(expectation.assumptions), ", ".join(rests_on) or "none",
                            set(expectation.assumptions) <= set(rests_on),
                            tuple(sorted({p for a in got.assumptions for p in a.paragraphs}, key=paragraph_key))))
    return checks


def _paragraphs_of(pattern: Pattern, kind: str, policy: Policy) -> tuple[str, ...]:
    """The paragraphs behind a finding or obligation code, whatever its arguments."""
    return _code_paragraphs(policy, kind, pattern.code)


@functools.lru_cache(maxsize=1024)
def _code_paragraphs(policy: Policy, kind: str, code: str) -> tuple[str, ...]:
    found: set[str] = set()
    for rule, reported, term in _reported(policy):
        if reported != kind:
            continue
        name = term.name if term.ast_type == ast.ASTType.Function else str(getattr(term, "symbol", ""))
        if name != code:
            continue
        body = [lit.atom.symbol for lit in rule.node.body
                if lit.ast_type == ast.ASTType.Literal and lit.atom.ast_type == ast.ASTType.SymbolicAtom]
        if body and body[0].ast_type == ast.ASTType.Function:
            for source in policy.rules_concluding((body[0].name, [None] * len(body[0].arguments))):
                found.update(source.paragraphs)
    return tuple(sorted(found, key=paragraph_key))


def _dependency_checks(expectation: Expectation, got: Disclosure) -> list[Check]:
    ident = expectation.disclosure
    shown = "; ".join(d.text for d in got.depends_on) or "nothing"
    patterns = expectation.depends_on or ()
    if not patterns:
        return [Check(ident, "depends_on", "nothing", shown, not got.depends_on)]
    checks = []
    for pattern in patterns:
        if pattern.path_only:
            ok = any(c.path == pattern.when[0][0] for d in got.depends_on for c in d.conditions)
        else:
            ok = any(_dependency_matches(pattern, d) for d in got.depends_on)
        checks.append(Check(ident, "depends_on", pattern.text, shown, ok))
    return checks


def _dependency_matches(pattern: DependencyPattern, dependency: Any) -> bool:
    conditions = {c.path: c.values for c in dependency.conditions}
    if set(conditions) != {path for path, _ in pattern.when}:
        return False
    if pattern.verdict is not None and dependency.verdict != pattern.verdict:
        return False
    return all(value in conditions[path] for path, value in pattern.when)


__all__ = ["Scenario", "Expectation", "Pattern", "DependencyPattern", "Check", "Outcome", "load", "load_file",
           "scenario_files", "run", "run_scenario", "chosen_readings", "compare", "merge", "output_codes", "PyispError"]
