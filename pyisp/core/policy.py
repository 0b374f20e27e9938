"""Load the rules in policy/: parse them once, read each rule's citation, and find the
paragraphs behind any conclusion.

Citation format (see policy/README.md): a comment line ``%% 3.3.15, 3.3.16: summary``
cites those paragraphs for every rule below it, up to the next such line. Predicate
docstrings are ``%! name/arity: text`` lines (policy/defined.lp).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from operator import attrgetter
from typing import Any, Callable, Iterable, Iterator

import clingo
from clingo import ast
from clingo.symbol import Number, Symbol, SymbolType

from ..errors import PolicyError


_AST_LOCK = threading.RLock()


def ast_lock() -> threading.RLock:
    """The lock held while a policy's clingo AST is read or built from: the statements are
    shared by every engine and thread of the process, and clingo's AST is not thread-safe
    (four threads grounding at once have been seen to corrupt it). A new lock in a forked
    child, where no other thread can hold it."""
    return _AST_LOCK


def _new_ast_lock() -> None:
    global _AST_LOCK
    _AST_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_ast_lock)

HEADER = re.compile(r"^%%\s+(\d+\.\d+(?:\.\d+)?(?:\s*,\s*\d+\.\d+(?:\.\d+)?)*)\s*:\s*(.+?)\s*$")
DOC = re.compile(r"^%!\s+(\w+)/(\d+):\s*(.+?)\s*$")
OUTPUT_FILE = "show.lp"
ROOT_FILE = "main.lp"


def default_policy_dir() -> Path:
    """The policy shipped with the package (in a wheel), or the checkout's policy/."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "policy", here.parent / "policy"):
        if (candidate / ROOT_FILE).is_file():
            return candidate
    raise PolicyError("no policy directory found beside the package", where=str(here))


# -- the policy in force and its fingerprint ------------------------------------------
POLICY_ENV = "PYISP_POLICY"


def _symbol_key() -> Callable[[Symbol], Any]:
    """`symbol_key`: a Symbol's own number in clingo (`_rep`), which clingo gives each symbol
    once (equal symbols, equal numbers), where this clingo has it; else the symbol itself."""
    if isinstance(getattr(Number(0), "_rep", None), int):
        return attrgetter("_rep")
    return lambda symbol: symbol


# The key of a symbol in the tables that cache what is read from it (its parts, its
# paragraphs): looking up an int costs a fraction of a Symbol's two Python-level calls into
# clingo (__hash__, __eq__), ~10% of reading an answer.
symbol_key: Callable[[Symbol], Any] = _symbol_key()


def resolve_policy_dir(explicit: str | Path | None = None) -> Path:
    """The rules every command and `pyisp.query` use, decided one way everywhere:
    `explicit` (``--policy DIR``), else the environment variable PYISP_POLICY, else
    ``./policy`` when it holds a pyisp policy (its main.lp), else the installed copy."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(POLICY_ENV, "").strip()
    if from_env:
        return Path(from_env)
    here = Path("policy")
    if (here / ROOT_FILE).is_file():
        return here
    return default_policy_dir()


def policy_source(explicit: str | Path | None = None) -> str:
    """Why resolve_policy_dir(explicit) chose its directory: `--policy`, `PYISP_POLICY`,
    `./policy` or `installed`."""
    if explicit:
        return "--policy"
    if os.environ.get(POLICY_ENV, "").strip():
        return POLICY_ENV
    return "./policy" if (Path("policy") / ROOT_FILE).is_file() else "installed"


def policy_fingerprint(directory: str | Path) -> str:
    """sha256 over the rule files (``*.lp``) of a policy directory: each file's name and
    contents, in sorted order of names. Equal rules give equal fingerprints wherever they are."""
    digest = hashlib.sha256()
    for path in sorted(Path(directory).glob("*.lp"), key=lambda p: p.name):
        data = path.read_bytes()
        digest.update(f"{path.name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def pyisp_version() -> str:
    """pyisp's version: the one in pyproject.toml, as the installed package's metadata says."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pyisp")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


@dataclass(frozen=True)
class Rule:
    """One rule of the policy with where it is and what it cites."""

    file: str
    line: int
    paragraphs: tuple[str, ...]
    summary: str
    text: str
    node: Any = field(repr=False, compare=False)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def head_name(self) -> str | None:
        atom = _head_atom(self.node)
        return atom.name if atom is not None and atom.ast_type == ast.ASTType.Function else (
            str(atom.symbol.name) if atom is not None and atom.ast_type == ast.ASTType.SymbolicTerm else None)


def _head_atom(rule: Any) -> Any:
    head = rule.head
    if head.ast_type == ast.ASTType.Literal and head.atom.ast_type == ast.ASTType.SymbolicAtom:
        return head.atom.symbol
    return None


def _body_atoms(rule: Any) -> list[Any]:
    atoms = []
    for lit in rule.body:
        if (lit.ast_type == ast.ASTType.Literal and lit.sign == ast.Sign.NoSign
                and lit.atom.ast_type == ast.ASTType.SymbolicAtom):
            atoms.append(lit.atom.symbol)
    return atoms


# A rule's terms, read once from the AST (whose attribute access is slow) into tuples:
# (VARIABLE, name), (CONSTANT, symbol), (FUNCTION, name, arguments), (POOL, alternatives)
# or (OTHER,) for arithmetic and the rest.
VARIABLE, CONSTANT, FUNCTION, POOL, OTHER = range(5)


def _plain(term: Any) -> tuple[Any, ...]:
    """An AST term as tuples (see VARIABLE above)."""
    kind = term.ast_type
    if kind == ast.ASTType.Variable:
        return (VARIABLE, term.name)
    if kind == ast.ASTType.SymbolicTerm:
        return (CONSTANT, term.symbol)
    if kind == ast.ASTType.Function:
        return (FUNCTION, term.name, tuple(_plain(a) for a in term.arguments))
    if kind == ast.ASTType.Pool:
        return (POOL, tuple(_plain(a) for a in term.arguments))
    return (OTHER,)


def _match(term: tuple[Any, ...], value: Any, binding: dict[str, Any]) -> bool:
    """Match a rule's term (`_plain`) against a ground symbol or a partly bound pattern
    (None is a wildcard). Binds the rule's variables."""
    if value is None:
        return True
    kind = term[0]
    if kind == VARIABLE:
        name = term[1]
        if name == "_":
            return True
        if name in binding and binding[name] is not None and binding[name] != value:
            return False
        binding[name] = value
        return True
    if kind == CONSTANT:
        return term[1] == value if isinstance(value, Symbol) else _same(term[1], value)
    if kind == FUNCTION:
        arguments = term[2]
        if isinstance(value, Symbol):
            if value.type != SymbolType.Function or value.name != term[1] or len(value.arguments) != len(arguments):
                return False
            return all(_match(t, v, binding) for t, v in zip(arguments, value.arguments))
        name, args = value
        return name == term[1] and len(args) == len(arguments) and all(
            _match(t, v, binding) for t, v in zip(arguments, args))
    if kind == POOL:
        return any(_match(alt, value, dict(binding)) for alt in term[1])
    return True  # arithmetic: accept (over-approximates, never drops a citation)


def _native(symbol: Symbol) -> Any:
    """A ground atom as `_match` reads patterns: a function with arguments as (name, its
    arguments so read), anything else (a number, a string, a constant) the symbol itself.
    It matches the rules the symbol matches; each step of a match reads no clingo object
    but the constants compared."""
    if symbol.type == SymbolType.Function:
        arguments = symbol.arguments
        if arguments:
            return symbol.name, [_native(a) for a in arguments]
    return symbol


def _same(symbol: Symbol, pattern: Any) -> bool:
    name, args = pattern
    return symbol.type == SymbolType.Function and symbol.name == name and not args


def _instantiate(term: tuple[Any, ...], binding: dict[str, Any]) -> Any:
    """A pattern for a rule's term (`_plain`) under a binding: ground parts as symbols, free
    variables as None."""
    kind = term[0]
    if kind == VARIABLE:
        return binding.get(term[1])
    if kind == CONSTANT:
        return term[1]
    if kind == FUNCTION:
        args = [_instantiate(a, binding) for a in term[2]]
        if all(isinstance(a, Symbol) for a in args):
            return clingo.Function(term[1], args)
        return (term[1], args)
    return None


def _has_string(term: tuple[Any, ...]) -> bool:
    """Whether a rule's term (`_plain`) names a string constant."""
    kind = term[0]
    if kind == CONSTANT:
        return bool(term[1].type == SymbolType.String)
    if kind == FUNCTION:
        return any(_has_string(a) for a in term[2])
    if kind == POOL:
        return any(_has_string(a) for a in term[1])
    return False


CACHED = 4096  # entries of a policy's citation caches before they are cleared


class Policy:
    """The parsed rules of one policy directory."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory) if directory else default_policy_dir()
        root = self.directory / ROOT_FILE
        if not root.is_file():
            raise PolicyError(f"no {ROOT_FILE} in the policy directory", where=str(self.directory))
        for _attempt in range(3):  # the fingerprint must be that of the very rules parsed
            before = policy_fingerprint(self.directory)
            self._read(root)
            self.fingerprint = policy_fingerprint(self.directory)  # of the rules as loaded now
            if self.fingerprint == before:
                break
        else:
            raise PolicyError("the rule files kept changing while they were read", where=str(self.directory))
        self._derived = False  # True for a policy made by with_statements

    def _read(self, root: Path) -> None:
        """Parse the rule files from `root` and read their lines, headers and rules."""
        messages: list[str] = []
        statements: list[Any] = []
        try:
            ast.parse_files([str(root)], statements.append, logger=lambda _code, msg: messages.append(msg))
        except RuntimeError as exc:
            raise _policy_error(messages, exc) from None
        self.statements = [s for s in statements if s.ast_type != ast.ASTType.Comment]
        self._headers: dict[str, list[tuple[int, tuple[str, ...], str]]] = {}
        self._lines: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}  # file -> its name relative to the directory
        self.docs: dict[tuple[str, int], str] = {}
        for filename in dict.fromkeys(s.location.begin.filename for s in self.statements):
            self._file(filename)
        self.rules = [self._rule(s) for s in self.statements if s.ast_type == ast.ASTType.Rule]
        self._cache: dict[Any, tuple[str, ...]] = {}  # symbol_key(atom) -> paragraphs
        self._shapes: dict[Any, tuple[str, ...]] = {}  # the same for atoms without their ids: few, kept longer
        self._cited: dict[str, tuple[str, ...]] = {}

    # -- reading files -------------------------------------------------------------
    def _file(self, filename: str) -> list[str]:
        if filename not in self._lines:
            lines = Path(filename).read_text(encoding="utf-8").splitlines()
            self._lines[filename] = lines
            headers = []
            for number, line in enumerate(lines, start=1):
                match = HEADER.match(line)
                if match:
                    paragraphs = tuple(p.strip() for p in match.group(1).split(","))
                    headers.append((number, paragraphs, match.group(2)))
                doc = DOC.match(line)
                if doc:
                    self.docs[(doc.group(1), int(doc.group(2)))] = doc.group(3)
            self._headers[filename] = headers
        return self._lines[filename]

    def _rule(self, node: Any) -> Rule:
        begin, end = node.location.begin, node.location.end
        lines = self._file(begin.filename)
        text = " ".join(line.strip() for line in lines[begin.line - 1:end.line])
        cited = [h for h in self._headers[begin.filename] if h[0] < begin.line]
        paragraphs, summary = (cited[-1][1], cited[-1][2]) if cited else ((), "")
        return Rule(self._relative(begin.filename), begin.line, paragraphs, summary, text, node)

    def _relative(self, filename: str) -> str:
        name = self._names.get(filename)
        if name is None:
            try:
                name = str(Path(filename).resolve().relative_to(self.directory.resolve()))
            except ValueError:
                name = filename
            self._names[filename] = name
        return name

    # -- what the rules say --------------------------------------------------------
    @cached_property
    def _ground(self) -> clingo.Control:
        """The rules grounded with no case: the facts they declare (readings, presumptions)."""
        ctl = clingo.Control(["--warn=none"])
        with ast_lock(), ast.ProgramBuilder(ctl) as builder:
            for statement in self.statements:
                builder.add(statement)
        ctl.ground([("base", [])])
        return ctl

    @cached_property
    def checked(self) -> Any:
        """The policy checked before it answers (pyisp.core.program.check): raises PolicyError
        for rules that run away, admit no answer or decide nothing; tells whether a case
        can be answered one disclosure at a time (`.separable`)."""
        from .program import check

        return check(self)

    @property
    def shipped(self) -> bool:
        """Whether these are the rules shipped with pyisp, wherever they are (checked by its tests)."""
        return not self._derived and self.fingerprint == policy_fingerprint(default_policy_dir())

    def with_statements(self, statements: Iterable[Any]) -> "Policy":
        """A policy of other statements (a mutant of these rules) with its own derived data:
        rules, citations and caches read from the new statements, files shared."""
        other = object.__new__(Policy)
        other.directory = self.directory
        other.statements = [s for s in statements if s.ast_type != ast.ASTType.Comment]
        other._headers, other._lines, other._names, other.docs = self._headers, self._lines, self._names, self.docs
        other.rules = [other._rule(s) for s in other.statements if s.ast_type == ast.ASTType.Rule]
        other._cache, other._cited = {}, {}
        digest = hashlib.sha256(self.fingerprint.encode())
        for statement in other.statements:
            digest.update(str(statement).encode())
        other.fingerprint = digest.hexdigest()
        other._derived = True
        return other

    def declared(self, name: str, arity: int) -> list[tuple[Symbol, bool]]:
        """The atoms of a predicate that hold without any case, each with whether it is a fact."""
        return [(atom.symbol, atom.is_fact) for atom in self._ground.symbolic_atoms.by_signature(name, arity)]

    @cached_property
    def output_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.file == OUTPUT_FILE]

    @cached_property
    def cited_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.file != OUTPUT_FILE]

    @cached_property
    def _heads(self) -> dict[str, list[tuple[Rule, tuple[Any, ...]]]]:
        """Cited rules by head predicate name, with their head atom (`_plain`: AST access is slow)."""
        index: dict[str, list[tuple[Rule, Any]]] = {}
        with ast_lock():
            for rule in self.cited_rules:
                head = _head_atom(rule.node)
                if head is None:
                    continue
                if head.ast_type == ast.ASTType.Function:
                    name = head.name
                elif head.ast_type == ast.ASTType.SymbolicTerm:
                    name = head.symbol.name
                else:
                    name = ""  # a head the index cannot name: tried for every pattern
                index.setdefault(name, []).append((rule, _plain(head)))
        return index

    def rules_concluding(self, pattern: Any) -> list[Rule]:
        """The rules whose head can match a ground atom or a partly bound pattern."""
        name = pattern.name if isinstance(pattern, Symbol) else pattern[0]
        return [r for r, head in self._candidates(name) if _match(head, pattern, {})]

    def _candidates(self, name: str) -> list[tuple[Rule, tuple[Any, ...]]]:
        """The rules whose head may be named `name` (and those whose head the index cannot
        name), in the order of their files and lines; sorted once per name."""
        sorted_heads: dict[str, list[tuple[Rule, tuple[Any, ...]]]] = self.__dict__.setdefault("_sorted_heads", {})
        found = sorted_heads.get(name)
        if found is None:
            found = sorted_heads[name] = sorted(self._heads.get(name, []) + self._heads.get("", []),
                                                key=lambda c: (c[0].file, c[0].line))
        return found

    def cited_by(self, pattern: Any) -> tuple[str, ...]:
        """The paragraphs cited by the rules whose head can match a pattern (cached; a
        lookup is one dict read, safe while another thread clears the cache)."""
        key = repr(pattern)
        found = self._cited.get(key)
        if found is None:
            found = tuple(sorted({p for r in self.rules_concluding(pattern) for p in r.paragraphs}, key=paragraph_key))
            if len(self._cited) >= CACHED:
                self._cited.clear()
            self._cited[key] = found
        return found

    def paragraphs_for(self, atom: Symbol) -> tuple[str, ...]:
        """The paragraphs behind an output atom: those cited by the rules that draw the
        conclusion it reports (the first body atom of the output rule that produces it).
        Cached by the atom and by the atom without its ids (bounded)."""
        own = symbol_key(atom)
        known = self._cache.get(own)
        if known is not None:
            return known
        if len(self._cache) >= CACHED:
            self._cache.clear()
        key = None if atom.name in self._id_sensitive else symbol_key(_without_ids(atom))
        known = self._shapes.get(key) if key is not None else None
        if known is not None:
            self._cache[own] = known
            return known
        found: set[str] = set()
        plain = _native(atom)  # matched many times: read out of clingo once
        for inner in self._reporting(atom, plain):
            for source in self.rules_concluding(_native(inner) if isinstance(inner, Symbol) else inner):
                found.update(source.paragraphs)
        for source in self.rules_concluding(plain):
            found.update(source.paragraphs)
        result = tuple(sorted(found, key=paragraph_key))
        self._cache[own] = result
        if key is not None:
            if len(self._shapes) >= 4 * CACHED:
                self._shapes.clear()
            self._shapes[key] = result
        return result

    def reported(self, atom: Symbol) -> Symbol | None:
        """The conclusion of the rules that an output atom reports: for a finding or an
        obligation (`obligation("d", seek_consent(mother))`), the first body atom of the
        output rule (show.lp) that produces it, with the head's values put in
        (`seek_consent_first("d", mother)`). None when no output rule produces it or its
        conclusion is not fully fixed by the output atom."""
        inner = next(self._reporting(atom), None)
        return inner if isinstance(inner, Symbol) else None

    def _reporting(self, atom: Symbol, plain: Any = None) -> Iterator[Any]:
        """For each output rule (show.lp) whose head matches the atom, the conclusion it
        reports: its first body atom with the head's values put in (a symbol, or a pattern
        where the output atom leaves a variable open). `plain`: the atom as `_native` reads
        it, matched instead (a pattern may then stand for a ground atom)."""
        named, unnamed = self._output_index
        candidates = named.get((atom.name, len(atom.arguments)), [])
        if unnamed:
            candidates = sorted(candidates + unnamed, key=lambda c: c[0])
        for _, head, body in candidates:
            binding: dict[str, Any] = {}
            if _match(head, atom if plain is None else plain, binding):
                yield _instantiate(body[0], binding)

    @cached_property
    def _output_index(self) -> tuple[dict[tuple[str, int], list[tuple[int, tuple[Any, ...], list[tuple[Any, ...]]]]],
                                     list[tuple[int, tuple[Any, ...], list[tuple[Any, ...]]]]]:
        """The output rules with a head and a body atom, in order, by their head's name and
        arity (a head that is no plain function: tried for every atom)."""
        named: dict[tuple[str, int], list[tuple[int, tuple[Any, ...], list[tuple[Any, ...]]]]] = {}
        unnamed: list[tuple[int, tuple[Any, ...], list[tuple[Any, ...]]]] = []
        for position, (head, body) in enumerate(self._output_shapes):
            if head is None or not body:
                continue
            if head[0] == FUNCTION:
                named.setdefault((head[1], len(head[2])), []).append((position, head, body))
            else:
                unnamed.append((position, head, body))
        return named, unnamed

    @cached_property
    def _output_shapes(self) -> list[tuple[tuple[Any, ...] | None, list[tuple[Any, ...]]]]:
        """Each output rule's head atom and positive body atoms, read once (`_plain`: AST
        access is slow)."""
        shapes: list[tuple[tuple[Any, ...] | None, list[tuple[Any, ...]]]] = []
        with ast_lock():
            for rule in self.output_rules:
                head = _head_atom(rule.node)
                shapes.append((None if head is None else _plain(head),
                               [_plain(atom) for atom in _body_atoms(rule.node)]))
        return shapes

    @cached_property
    def _id_sensitive(self) -> frozenset[str]:
        """The predicates whose paragraphs may depend on the ids (strings) in an atom: those
        for which a head that `paragraphs_for` matches (the atom's own rules, its output
        rules and the rules concluding their first body atom) names a string constant."""
        def stringy(name: str) -> bool:
            return any(_has_string(head) for _rule, head in self._heads.get(name, []) + self._heads.get("", []))

        chains: dict[str, set[str]] = {}
        for head, body in self._output_shapes:
            if head is None or head[0] != FUNCTION:
                continue
            chain = chains.setdefault(head[1], {head[1]})
            if _has_string(head):
                chain.add("")  # marks the chain as sensitive below
            if body and body[0][0] == FUNCTION:
                chain.add(body[0][1])
        return frozenset(name for name, chain in chains.items() if "" in chain or any(stringy(n) for n in chain))


_ID = clingo.String("\x00id")


def _without_ids(symbol: Symbol) -> Symbol:
    """The symbol with every string (an id of the case) replaced by one placeholder: the
    rules never test an id, so conclusions that differ only in ids cite the same paragraphs."""
    if symbol.type == SymbolType.String:
        return _ID
    if symbol.type == SymbolType.Function and symbol.arguments:
        return clingo.Function(symbol.name, [_without_ids(a) for a in symbol.arguments], symbol.positive)
    return symbol


def paragraph_key(number: str) -> tuple[int, ...]:
    """Sort key for paragraph numbers: 3.3.9 before 3.3.10."""
    return tuple(int(part) for part in number.split("."))


def _policy_error(messages: Iterable[str], exc: Exception) -> PolicyError:
    for message in messages:
        match = re.match(r"^(.*?):(\d+):(\d+)(?:-\d+(?::\d+)?)?:\s*(?:error:\s*)?(.*)$",
                         message.strip().splitlines()[0])
        if match:
            try:
                lines = Path(match.group(1)).read_text(encoding="utf-8").splitlines()
            except OSError:
                lines = []
            line, text = syntax_error_line(lines, int(match.group(2)), int(match.group(3)), match.group(4))
            return PolicyError(text, where=f"{match.group(1)}:{line}")
    text = " ".join(m.strip() for m in messages) or str(exc)
    return PolicyError(text)


def syntax_error_line(lines: list[str], line: int, column: int, text: str) -> tuple[int, str]:
    """Where a syntax error really is. clingo reports a missing '.' at the next token, often
    a few lines (of comments) below: when that token starts its line and the code before it
    does not end with '.', the error is at the end of that unfinished statement."""
    if not (1 <= line <= len(lines)) or lines[line - 1][:max(column - 1, 0)].strip():
        return line, text
    for number in range(line - 1, 0, -1):
        code = lines[number - 1].split("%", 1)[0].rstrip()
        if not code:
            continue
        if not code.endswith("."):
            return number, f"missing '.' at the end of this statement ({text})"
        break
    return line, text
