"""`pyisp check`: a linter of the rule files (and, when given, of scenario files).

Each finding is one line, ``file:line: CODE message``, as ruff prints them. The codes:

    E001  syntax error (at the line of the mistake: a missing '.' is reported where the rule ends)
    P001  a predicate read in a body that no rule concludes and no ``%!`` input line declares
    P002  a predicate ``#defined`` without a ``%! name/arity:`` line saying what it means
    P003  a predicate rules conclude that no rule reads, no ``#show`` shows and pyisp does not read
    C001  a rule with no paragraph citation (no ``%%`` line above it)
    C002  a citation of a paragraph the chapter does not have (policy/traceability.yaml)
    C003  a rule that inherits another rule's ``%%`` line: a ``%%`` line describes only the
          rules directly under it (no blank line between them)
    C004  one ``%%`` sentence shared by rules (with a body) of different heads
    T001  a predicate of the rules with no sentence in policy/templates.yaml
    R001  rules that cannot answer: grounding runs away (past the budget), no answer exists
          even without a case, or no verdict/2 is concluded (the checks run before answering)
    S001  a scenario file that does not load (a typo in it: see pyisp/authoring/scenarios.py)

The rules of ``show.lp`` (the output layer) need no citation. ``properties.lp`` (read by
`pyisp verify`) is checked with the rules it reads.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml
from clingo import ast

from ..core.atoms import iter_input_predicates
from ..core.policy import DOC, HEADER, OUTPUT_FILE, ROOT_FILE, syntax_error_line
from ..errors import PolicyError, ScenarioError

PROPERTIES_FILE = "properties.lp"
TRACE_FILE = "traceability.yaml"
TEMPLATES_FILE = "templates.yaml"
QUERY_INPUTS = {("reading_chosen", 2)}  # chosen per query, declared in defined.lp
READ_BY_PYISP = {("presumption", 2), ("reading_option", 3)}  # read from the rules by core/presumption.py, reading.py
# The parts policy/README.md puts under one citation: a presumption, a reading.
# A conclusion resting on a reading adds reading_applied/3 under its own citation (policy/README.md).
READING_APPLIED = "reading_applied/3"
BLOCK_PARTS = ({"presumption/2", "presumption_applies/3"}, {"reading_option/3", "reading/2"})


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where it is, its code and what to do."""

    file: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.code} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "code": self.code, "message": self.message}


@dataclass
class _Rule:
    file: str
    line: int
    heads: list[tuple[str, int]]
    uses: list[tuple[str, int, int]]  # name, arity, line


class _Lint:
    """The findings for one policy directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.findings: list[Finding] = []
        self.rules: list[_Rule] = []
        self.defined_decl: dict[tuple[str, int], tuple[str, int]] = {}
        self.shown: set[tuple[str, int]] = set()
        self.lines: dict[str, list[str]] = {}

    def where(self, filename: str) -> str:
        path = Path(filename)
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)

    def add(self, filename: str, line: int, code: str, message: str) -> None:
        self.findings.append(Finding(self.where(filename), line, code, message))

    # -- parsing ---------------------------------------------------------------------
    def parse(self, files: Sequence[Path]) -> bool:
        statements: list[Any] = []
        messages: list[str] = []
        try:
            ast.parse_files([str(f) for f in files], statements.append,
                            logger=lambda _code, msg: messages.append(msg))
        except RuntimeError:
            for message in messages or ["the rules cannot be parsed"]:
                self.syntax_error(message)
            return False
        for statement in statements:
            self.statement(statement)
        return True

    def syntax_error(self, message: str) -> None:
        first = message.strip().splitlines()[0]
        match = re.match(r"^(.*?):(\d+):(\d+)(?:-\d+(?::\d+)?)?:\s*(?:error:\s*)?(.*)$", first)
        if not match:
            self.findings.append(Finding(self.where(str(self.directory)), 0, "E001", first))
            return
        filename, line, column, text = match.group(1), int(match.group(2)), int(match.group(3)), match.group(4)
        line, text = syntax_error_line(self.file_lines(filename), line, column, text)
        self.add(filename, line, "E001", text)

    def file_lines(self, filename: str) -> list[str]:
        if filename not in self.lines:
            try:
                self.lines[filename] = Path(filename).read_text(encoding="utf-8").splitlines()
            except OSError:
                self.lines[filename] = []
        return self.lines[filename]

    def statement(self, node: Any) -> None:
        kind = node.ast_type
        filename, line = node.location.begin.filename, node.location.begin.line
        if kind == ast.ASTType.Rule:
            heads: list[tuple[str, int]] = []
            uses: list[tuple[str, int, int]] = []
            _head_atoms(node.head, heads, uses)
            for literal in node.body:
                _atoms(literal, uses)
            self.rules.append(_Rule(filename, line, heads, uses))
        elif kind == ast.ASTType.Defined:
            self.defined_decl[(node.name, node.arity)] = (filename, line)
        elif kind == ast.ASTType.ShowSignature:
            self.shown.add((node.name, node.arity))
        elif kind == ast.ASTType.ShowTerm:
            uses = []
            for literal in node.body:
                _atoms(literal, uses)
            self.rules.append(_Rule(filename, line, [], uses))
        elif kind == ast.ASTType.External:
            heads = []
            _atoms(node.atom, [])
            symbol = node.atom.symbol
            if symbol.ast_type == ast.ASTType.Function:
                heads.append((symbol.name, len(symbol.arguments)))
            self.rules.append(_Rule(filename, line, heads, []))

    # -- the checks --------------------------------------------------------------------
    def predicates(self, docs: dict[tuple[str, int], tuple[str, int]]) -> None:
        concluded = {h for r in self.rules for h in r.heads}
        inputs = set(docs) | set(iter_input_predicates()) | QUERY_INPUTS
        known = concluded | inputs
        names = sorted({f"{n}/{a}" for n, a in known})
        reported: set[tuple[str, int, str]] = set()
        for rule in self.rules:
            for name, arity, line in rule.uses:
                if (name, arity) in known or (rule.file, line, name) in reported:
                    continue
                reported.add((rule.file, line, name))
                same_name = sorted(a for n, a in known if n == name)
                if same_name:
                    hint = f" (the rules have {name}/{', '.join(map(str, same_name))})"
                else:
                    hint = _did_you_mean(f"{name}/{arity}", names)
                self.add(rule.file, line, "P001", f"{name}/{arity} is read here but no rule concludes it and no "
                         f"'%!' line declares it as an input{hint}")
        read = {(n, a) for r in self.rules for n, a, _ in r.uses} | self.shown | READ_BY_PYISP
        unused: dict[tuple[str, int], _Rule] = {}
        for rule in self.rules:
            if Path(rule.file).name in (OUTPUT_FILE, PROPERTIES_FILE):
                continue
            for signature in rule.heads:
                if signature not in read:
                    unused.setdefault(signature, rule)
        for (name, arity), rule in sorted(unused.items(), key=lambda kv: (kv[1].file, kv[1].line)):
            self.add(rule.file, rule.line, "P003", f"{name}/{arity} is concluded here but no rule reads it and "
                     "no #show shows it")
        for signature, (filename, line) in sorted(self.defined_decl.items()):
            if signature not in docs and signature not in concluded:
                self.add(filename, line, "P002", f"#defined {signature[0]}/{signature[1]} has no '%! "
                         f"{signature[0]}/{signature[1]}: ...' line saying what it means")

    def citations(self, paragraphs: set[str] | None) -> None:
        blocks: dict[tuple[str, int], list[_Rule]] = {}
        for rule in self.rules:
            if not rule.heads or Path(rule.file).name == OUTPUT_FILE:
                continue
            own_blocks = Path(rule.file).name == PROPERTIES_FILE  # a block per property
            lines = self.file_lines(rule.file)
            header = _header_above(lines, rule.line)
            if header is None:
                self.add(rule.file, rule.line, "C001", "the rule cites no paragraph: put a '%% 3.x.y: summary' "
                         "line directly above it")
                continue
            number, cited, direct = header
            if not direct and not own_blocks:
                self.add(rule.file, rule.line, "C003", f"the rule inherits the citation of line {number} "
                         "across a blank line: give it its own '%%' line")
            for paragraph in cited:
                if paragraphs is not None and paragraph not in paragraphs:
                    close = difflib.get_close_matches(paragraph, sorted(paragraphs), n=1, cutoff=0.8)
                    hint = f" (did you mean {close[0]}?)" if close else ""
                    self.add(rule.file, number, "C002", f"cites {paragraph}, which the chapter does not have{hint}")
            if not own_blocks:
                blocks.setdefault((rule.file, number), []).append(rule)
        seen: set[tuple[str, int]] = set()
        for (filename, number), rules in sorted(blocks.items()):
            # facts under a sentence are the data its rules use (a list of roles, of purposes):
            # the sentence describes the rules with a body (as tests/test_explain_sentences.py reads it)
            heads = sorted({f"{n}/{a}" for r in rules if r.uses for n, a in r.heads} - {READING_APPLIED})
            if len(heads) > 1 and not any(set(heads) <= parts for parts in BLOCK_PARTS) \
                    and (filename, number) not in seen:
                seen.add((filename, number))
                self.add(filename, number, "C004", f"one sentence for rules of different heads ({', '.join(heads)}): "
                         "give each its own '%%' line")

    def templates(self, docs: dict[tuple[str, int], tuple[str, int]]) -> None:
        path = self.directory / TEMPLATES_FILE
        if not path.is_file():
            self.add(str(path), 0, "T001", "no templates.yaml: every predicate needs a sentence")
            return
        from ..explain.wording import load_templates

        have = set(load_templates(self.directory))
        first: dict[tuple[str, int], tuple[str, int]] = {}
        for rule in self.rules:
            name = Path(rule.file).name
            if name in (OUTPUT_FILE, PROPERTIES_FILE):
                continue
            for signature in rule.heads:
                first.setdefault(signature, (rule.file, rule.line))
        for signature, place in docs.items():
            first.setdefault(signature, place)
        for (name, arity), (filename, line) in sorted(first.items(), key=lambda kv: (kv[1], kv[0])):
            if (name, arity) not in have:
                self.add(filename, line, "T001", f"{name}/{arity} has no sentence in {TEMPLATES_FILE} "
                         f"(add '{name}({', '.join('ABCDEFGH'[:arity])}): \"...\"')" if arity else
                         f"{name}/0 has no sentence in {TEMPLATES_FILE} (add '{name}: \"...\"')")


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


def _header_above(lines: list[str], line: int) -> tuple[int, tuple[str, ...], bool] | None:
    """The ``%%`` citation line that covers the rule starting at `line`: its number, its
    paragraphs, and whether it is directly above the rule (no blank line between)."""
    direct = True
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        match = HEADER.match(text)
        if match:
            return number, tuple(p.strip() for p in match.group(1).split(",")), direct
        if not text.strip():
            direct = False
    return None


def _signatures(symbol: Any) -> list[tuple[str, int]]:
    """The predicates of an atom's symbol (a pool ``p(a; b)`` may name more than one)."""
    if symbol.ast_type == ast.ASTType.Pool:
        return [s for alt in symbol.arguments for s in _signatures(alt)]
    signature = _signature(symbol)
    return [signature] if signature else []


def _signature(symbol: Any) -> tuple[str, int] | None:
    if symbol.ast_type == ast.ASTType.Function and symbol.name and not symbol.external:
        return symbol.name, len(symbol.arguments)
    if symbol.ast_type == ast.ASTType.SymbolicTerm and symbol.symbol.type.name == "Function":
        return symbol.symbol.name, 0
    return None


def _atoms(node: Any, out: list[tuple[str, int, int]]) -> None:
    """Every predicate an AST node reads (symbolic atoms in literals, conditions, aggregates)."""
    if node is None or isinstance(node, (str, int)):
        return
    if isinstance(node, (list, tuple)) or type(node).__name__ == "ASTSequence":
        for item in node:
            _atoms(item, out)
        return
    if not hasattr(node, "ast_type"):
        return
    if node.ast_type == ast.ASTType.SymbolicAtom:
        for signature in _signatures(node.symbol):
            out.append((*signature, node.symbol.location.begin.line))
        return
    for key in node.child_keys:
        _atoms(getattr(node, key), out)


def _head_atoms(head: Any, heads: list[tuple[str, int]], uses: list[tuple[str, int, int]]) -> None:
    """The predicates a head concludes; the conditions inside it are read, not concluded."""
    kind = head.ast_type
    if kind == ast.ASTType.Literal:
        if head.atom.ast_type == ast.ASTType.SymbolicAtom:
            heads += _signatures(head.atom.symbol)
        return
    if kind in (ast.ASTType.Aggregate, ast.ASTType.Disjunction):
        for element in head.elements:  # ConditionalLiteral
            _head_atoms(element.literal, heads, uses)
            _atoms(element.condition, uses)
        return
    if kind == ast.ASTType.HeadAggregate:
        for element in head.elements:
            _head_atoms(element.condition.literal, heads, uses)
            _atoms(element.condition.condition, uses)
        return
    _atoms(head, uses)


def chapter_paragraphs(directory: Path) -> set[str] | None:
    """The chapter's paragraph numbers, from the policy's traceability.yaml (None when absent)."""
    path = directory / TRACE_FILE
    if not path.is_file():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {exc}", where=str(path)) from None
    return {str(k) for k in (data.get("paragraphs") or {})}


def _docs(files: Sequence[Path]) -> dict[tuple[str, int], tuple[str, int]]:
    found: dict[tuple[str, int], tuple[str, int]] = {}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = DOC.match(line)
            if match:
                found.setdefault((match.group(1), int(match.group(2))), (str(path), number))
    return found


def check_policy(directory: str | Path) -> list[Finding]:
    """Every finding in the rule files of a policy directory, sorted by file and line."""
    directory = Path(directory)
    root = directory / ROOT_FILE
    if not root.is_file():
        raise PolicyError(f"no {ROOT_FILE} in the policy directory", where=str(directory))
    lint = _Lint(directory)
    files = [root] + ([directory / PROPERTIES_FILE] if (directory / PROPERTIES_FILE).is_file() else [])
    if not lint.parse(files):
        return sorted(lint.findings)
    docs = _docs(sorted(directory.glob("*.lp")))
    lint.predicates(docs)
    lint.citations(chapter_paragraphs(directory))
    lint.templates({k: v for k, v in docs.items()})
    if not any(f.code == "E001" for f in lint.findings):
        lint.findings.extend(_runtime(directory))
    return sorted(set(lint.findings))


def _runtime(directory: Path) -> list[Finding]:
    """What pyisp checks before a policy answers (core/program.py, under the time and memory
    budgets PYISP_POLICY_SECONDS and PYISP_POLICY_MEGABYTES): rules that run away when
    grounded, admit no answer, or decide no verdict. R001, at the rule suspected or the directory."""
    from ..core.policy import Policy
    from ..core.program import check

    try:
        check(Policy(directory), isolated=True)
    except PolicyError as exc:
        where = exc.where or str(directory)
        match = re.match(r"^(.*?):(\d+)", where)
        file, line = (match.group(1), int(match.group(2))) if match else (where, 0)
        if not Path(file).is_absolute() and (directory / file).is_file():
            file = str(directory / file)
        return [Finding(file, line, "R001", exc.message)]
    return []


def check_scenarios(paths: Sequence[str | Path], directory: str | Path) -> list[Finding]:
    """A finding for each scenario file that does not load against the policy (typos in
    expectations, ids, paragraphs: see pyisp/authoring/scenarios.py)."""
    from ..core.service import engine_for
    from .scenarios import load_file, scenario_files

    policy = engine_for(directory).policy
    findings = []
    for path in scenario_files(paths):
        try:
            load_file(path, policy)
        except ScenarioError as exc:
            where = exc.where or str(path)
            match = re.match(r"^(.*?):(\d+)(?::\s*(.*))?$", where)
            if match:
                key = f"{match.group(3)}: " if match.group(3) else ""
                findings.append(Finding(match.group(1), int(match.group(2)), "S001", key + exc.message))
            else:
                findings.append(Finding(str(path), 0, "S001", f"{where}: {exc.message}" if where != str(path)
                                        else exc.message))
    return findings


def check(directory: str | Path, scenarios: Sequence[str | Path] = ()) -> list[Finding]:
    """`pyisp check`: the policy's findings, then the scenarios' (only when the rules parse)."""
    findings = check_policy(directory)
    if scenarios and not any(f.code == "E001" for f in findings):
        findings += check_scenarios(scenarios, directory)
    return findings


def findings_text(findings: Sequence[Finding]) -> str:
    """The findings one a line, then a count (as ruff prints them)."""
    if not findings:
        return "All checks passed."
    lines = [str(f) for f in findings]
    lines.append(f"Found {len(findings)} problem{'s' if len(findings) != 1 else ''}.")
    return "\n".join(lines)
