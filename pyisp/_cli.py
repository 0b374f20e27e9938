"""The `pyisp` command: a thin layer over the library. Each command is one call into
pyisp and an exit code; errors are turned into a message and exit code 2 in one place."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Optional

import typer

from . import query_file as _query_file
from . import presumptions as _presumptions
from . import readings as _readings
from .core.case import dumps_json
from .errors import PyispError, UsageError
from .core.reading import parse_choices
from .render.result_text import presumptions_text, readings_text, result_text
from .core.schema import json_schema

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Information sharing in child protection (London CPP chapter 3) as executable rules.")

PolicyOption = typer.Option(None, "--policy", help="Use the rules in this directory (default: $PYISP_POLICY, else "
                            "./policy when it holds a pyisp policy, else the shipped rules).")
ReadingOption = typer.Option(None, "--reading", metavar="NAME=VALUE",
                             help="Take another alternative of a named reading (repeatable; see `pyisp readings`).")


def _rules(policy: Optional[Path]) -> Path:
    """The policy in force (pyisp/core/policy.py resolve_policy_dir), named on stderr with
    its fingerprint so that stdout stays clean for --json."""
    from .core.policy import policy_fingerprint, policy_source, resolve_policy_dir

    directory = resolve_policy_dir(policy)
    source = policy_source(policy)
    shown = {"./policy": "./policy", "installed": f"installed copy {directory}"}.get(source, f"{directory} ({source})")
    typer.echo(f"rules: {shown} (sha256 {policy_fingerprint(directory)[:8]})", err=True)
    return directory


def _version(value: bool) -> None:
    if value:
        from .core.policy import default_policy_dir, policy_fingerprint, pyisp_version

        typer.echo(f"pyisp {pyisp_version()} (shipped rules sha256 {policy_fingerprint(default_policy_dir())[:8]})")
        raise typer.Exit(0)


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print pyisp's version and the shipped rules' fingerprint.")) -> None:
    """Information sharing in child protection (London CPP chapter 3) as executable rules."""


def _run(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except PyispError as exc:
        _fail(exc)


def _fail(exc: PyispError) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(exc.exit_code) from None


NoPresumeOption = typer.Option(None, "--no-presume", metavar="NAME",
                               help="Switch a presumption off: the fact stays unknown (repeatable; see "
                                    "`pyisp presumptions`).")
StrictOption = typer.Option(False, "--strict", help="No presumptions: every fact the case leaves out is unknown.")
RecordToOption = typer.Option(None, "--record-to", metavar="DB", help="Also append the decisions to this "
                              "register: a SQLite file or a postgresql:// URL (see `pyisp log`).")


@app.command()
def query(case: Path = typer.Argument(..., help="A case file (YAML or JSON)."),
          json_output: bool = typer.Option(False, "--json", help="Print the full result as stable JSON."),
          codes: bool = typer.Option(False, "--codes", help="Print the findings and obligations as the rules' codes "
                                     "instead of the brief."),
          fmt: str = typer.Option("text", "--format", help="The brief as text or markdown."),
          source: Optional[Path] = typer.Option(None, "--source", help="Your copy of chapter 3 (plain text): the "
                                                "operative sentence of each deciding paragraph is quoted."),
          no_changes: bool = typer.Option(False, "--no-changes", help="Skip the search for changes that would flip "
                                          "a settled verdict (it answers the changed cases)."),
          no_depends: bool = typer.Option(False, "--no-depends", help="Skip the search for deciding unknowns."),
          policy: Optional[Path] = PolicyOption,
          reading: Optional[list[str]] = ReadingOption,
          no_presume: Optional[list[str]] = NoPresumeOption,
          strict: bool = StrictOption,
          record_to: Optional[str] = RecordToOption) -> None:
    """Answer a case: each verdict, why, and what to do now."""
    from .render.brief import brief_markdown, brief_text

    if fmt not in ("text", "markdown"):
        typer.echo(f"error: --format: {fmt!r} is not one of text, markdown", err=True)
        raise typer.Exit(2)
    policy = _rules(policy)
    result = _run(lambda: _query_file(case, policy=policy, depends_on=not no_depends,
                                      readings=parse_choices(reading),
                                      presumptions=dict.fromkeys(no_presume or [], False), strict=strict))
    _record_to(record_to, result)
    if json_output:
        typer.echo(dumps_json(result.to_dict()))
    elif codes:
        typer.echo(result_text(result), nl=False)
    else:
        render = brief_markdown if fmt == "markdown" else brief_text
        typer.echo(_run(lambda: render(result, source, changes=not no_changes)), nl=False)


@app.command()
def presumptions(json_output: bool = typer.Option(False, "--json", help="Print them as JSON."),
                 policy: Optional[Path] = PolicyOption) -> None:
    """List the presumptions (facts taken as so unless stated)."""
    policy = _rules(policy)
    found = _run(lambda: _presumptions(policy))
    typer.echo(dumps_json([p.to_dict() for p in found]) if json_output else presumptions_text(found),
               nl=json_output)


@app.command()
def batch(source: Path = typer.Argument(..., help="A JSON Lines file (one case a line) or a directory of "
                                        "YAML/JSON cases."),
          output: Path = typer.Option(..., "-o", "--output", help="Where to write the results, one JSON a line."),
          errors: Optional[Path] = typer.Option(None, "--errors", help="Where malformed cases go "
                                                "(default: OUTPUT.errors.jsonl)."),
          jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Worker processes."),
          strict: bool = typer.Option(False, "--strict", help="Stop at the first malformed case (exit 2)."),
          resume: bool = typer.Option(False, "--resume", help="Answer only the lines (or files) not yet in the "
                                      "output or errors file as they are now; lines changed since are answered "
                                      "again, and the run is refused if the input lost lines."),
          restart: bool = typer.Option(False, "--restart", help="Answer the whole input again, replacing the "
                                       "output and errors files."),
          no_depends: bool = typer.Option(False, "--no-depends", help="Skip the search for deciding unknowns."),
          only: Optional[str] = typer.Option(None, "--only", metavar="verdicts",
                                             help="Keep only each disclosure's verdict in the output lines (an audit "
                                                  "that counts verdicts; the search for deciding unknowns is skipped)."),
          policy: Optional[Path] = PolicyOption) -> None:
    """Answer many cases: one JSON result a line."""
    if resume and restart:
        _fail(UsageError("exclude each other: keep the answers already written, or answer everything again",
                         where="--resume and --restart"))
    policy = _rules(policy)
    from .core.batch import run_batch

    summary = _run(lambda: run_batch(source, output, errors=errors, jobs=jobs, strict=strict, resume=resume,
                                     depends_on=not no_depends, policy=policy, only=only))
    typer.echo(summary.table())
    if summary.errors:
        typer.echo(f"{summary.errors} malformed case(s): see {errors or str(output) + '.errors.jsonl'}", err=True)
        raise typer.Exit(2)


@app.command()
def upgrade(case: Path = typer.Argument(..., help="A case file (YAML or JSON) in any format version."),
            write: bool = typer.Option(False, "--write", help="Rewrite the file in place (comments are not kept)."))\
        -> None:
    """Print a case in the current case format (format 2)."""
    from .core.case import upgrade_file

    text = _run(lambda: upgrade_file(case, write=write))
    if not write:
        typer.echo(text, nl=False)


@app.command()
def schema(result: bool = typer.Option(False, "--result", help="The JSON Schema of a result (`query --json`) "
                                       "instead of the case format's.")) -> None:
    """Print the JSON Schema of a case (or of a result)."""
    from .core.result_schema import result_schema

    typer.echo(dumps_json(result_schema() if result else json_schema()))


@app.command()
def check(scenarios: Optional[list[Path]] = typer.Argument(None, metavar="SCENARIOS", help="Scenario files or folders to check too."),
          json_output: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
          policy: Optional[Path] = PolicyOption) -> None:
    """Lint the rules and scenarios: file:line: CODE message."""
    policy = _rules(policy)
    from .authoring.check import check as _check, findings_text

    findings = _run(lambda: _check(policy, scenarios or []))
    typer.echo(dumps_json([f.to_dict() for f in findings]) if json_output else findings_text(findings))
    raise typer.Exit(1 if findings else 0)


@app.command("test")
def test_scenarios(paths: list[Path] = typer.Argument(None, metavar="SCENARIOS", help="Scenario files or folders (default: scenarios/)."),
                   junit_xml: Optional[Path] = typer.Option(None, "--junit-xml", help="Also write a JUnit XML report."),
                   coverage: bool = typer.Option(False, "--coverage", help="Report rules that fired or never "
                                                 "did (file:line) and paragraphs exercised."),
                   fail_under: Optional[float] = typer.Option(None, "--fail-under", metavar="PCT",
                                                              help="Exit 1 when rule coverage is below PCT."),
                   test_reading: Optional[list[str]] = typer.Option(
                       None, "--reading", metavar="NAME=VALUE",
                       help="Run every scenario under another alternative of a named reading, unless the scenario "
                       "chooses its own (repeatable)."),
                   compare: Optional[str] = typer.Option(
                       None, "--compare", metavar="OLD_POLICY_DIR_OR_GIT_REV",
                       help="List every case (scenarios and facts/) answered differently by these older rules."),
                   verbose: bool = typer.Option(False, "-v", "--verbose", help="Show the whole result and the "
                                                "explanation of each failure."),
                   policy: Optional[Path] = PolicyOption) -> None:
    """Run the scenarios: a line each, a short block per failure."""
    policy = _rules(policy)
    from .authoring.check import check_policy
    from .authoring.testreport import parse_readings, run_command

    problems = _run(lambda: check_policy(policy))  # the linter first: a typo in a rule is named, not tested around
    if problems:
        for problem in problems:
            typer.echo(str(problem))
        typer.echo(f"{len(problems)} problem(s) in the rules (pyisp check): fix them before running the scenarios")
        raise typer.Exit(1)
    code = _run(lambda: run_command(paths or [Path("scenarios")], policy=policy, junit_xml=junit_xml,
                                    coverage=coverage, fail_under=fail_under, compare=compare,
                                    readings=parse_readings(test_reading), verbose=verbose, echo=typer.echo))
    raise typer.Exit(code)


@app.command()
def verify(prop: Optional[list[str]] = typer.Option(None, "--property", metavar="NAME", help="Check only this property (repeatable)."),
           people: Optional[list[int]] = typer.Option(None, "--people", metavar="N", help="Domain size: up to N people "
                                                      "(repeatable; default 1 and 3)."),
           json_output: bool = typer.Option(False, "--json", help="Print the outcomes as JSON."),
           samples: int = typer.Option(40, "--samples", help="Generated cases for sound_unknowns."),
           policy: Optional[Path] = PolicyOption) -> None:
    """Check the properties (properties.lp) on every small case."""
    policy = _rules(policy)
    from .authoring.verify import DEFAULT_PEOPLE, verify as _verify
    from .authoring.verify_report import outcomes_text

    outcomes = _run(lambda: _verify(policy, prop, people or DEFAULT_PEOPLE, samples))
    typer.echo(dumps_json([o.to_dict() for o in outcomes]) if json_output else outcomes_text(outcomes))
    raise typer.Exit(0 if all(o.holds for o in outcomes) else 1)


@app.command()
def diff(old: str = typer.Argument(..., help="The old rules: a policy directory or a git revision."),
         new: str = typer.Argument(..., help="The new rules: a policy directory or a git revision."),
         people: Optional[list[int]] = typer.Option(None, "--people", metavar="N", help="Domain size (repeatable; default 1 "
                                                    "then 3)."),
         json_output: bool = typer.Option(False, "--json", help="Print the differences as JSON.")) -> None:
    """Find small cases two versions of the rules disagree on."""
    from .authoring.diff import diff as _diff
    from .authoring.verify_report import diff_text

    reports = _run(lambda: _diff(old, new, people or (1, 3)))
    if json_output:
        typer.echo(dumps_json([{"domain": r.bounds.to_dict(), "inputs": r.inputs, "seconds": round(r.seconds, 3),
                                "differences": [d.to_dict() for d in r.differences]} for r in reports]))
    else:
        typer.echo(diff_text(reports))
    raise typer.Exit(1 if any(r.differences for r in reports) else 0)


@app.command()
def explain(case: Path = typer.Argument(..., help="A case file (YAML or JSON)."),
            disclosure: Optional[str] = typer.Option(None, "--disclosure", help="Only this disclosure (its id)."),
            why: Optional[str] = typer.Option(None, "--why", metavar="X",
                                              help="Why X holds: a verdict, a conclusion or a finding code."),
            why_not: Optional[str] = typer.Option(None, "--why-not", metavar="X", help="Why X does not hold."),
            fmt: str = typer.Option("text", "--format", help="text, markdown, html or json."),
            source: Optional[Path] = typer.Option(None, "--source", help="Your copy of the guidance text: the "
                                                  "HTML quotes each deciding paragraph beside it, and every "
                                                  "cited paragraph in its appendix."),
            full: bool = typer.Option(False, "--full", help="Add the full derivation, rule by rule (in HTML, "
                                      "a collapsed section)."),
            policy: Optional[Path] = PolicyOption) -> None:
    """Explain a case: why each verdict, and what would change it."""
    policy = _rules(policy)
    from .explain import explain_result
    from .render.explanation import render

    def action() -> str:
        result = _query_file(case, policy=policy)
        return render(explain_result(result, disclosure, why, why_not), fmt, source, full=full)

    typer.echo(_run(action), nl=False)


@app.command()
def crosscheck(cases: int = typer.Option(1000, "--cases", help="How many cases to generate from the case format."),
               seed: int = typer.Option(0, "--seed", help="Seed of the generated cases and completions."),
               facts: Path = typer.Option(Path("facts"), "--facts", help="Folder of example cases."),
               scenarios: Path = typer.Option(Path("scenarios"), "--scenarios", help="Folder of scenarios."),
               completions: int = typer.Option(8, "--completions", help="Random completions of a case that "
                                               "leaves inputs unknown."),
               policy: Optional[Path] = PolicyOption,
               against: Optional[Path] = typer.Option(None, "--against", hidden=True,
                                                      help="Give pyDatalog the rules in this directory instead.")) -> None:
    """Compare clingo with pyDatalog, a second engine."""
    policy = _rules(policy)
    from .authoring.crosscheck import crosscheck as _crosscheck, render

    report = _run(lambda: _crosscheck(cases, seed, policy, facts, scenarios, against, completions))
    typer.echo(render(report))
    if report.disagreements:
        raise typer.Exit(1)


@app.command()
def mutate(scenarios: Optional[list[Path]] = typer.Argument(None, metavar="SCENARIOS", help="Scenario files or folders (default: "
                                                             "scenarios/)."),
           limit: Optional[int] = typer.Option(None, "--limit", help="Run only N mutants, spread over the rules."),
           workers: int = typer.Option(2, "--workers", help="Worker processes."),
           people: int = typer.Option(2, "--people", help="Domain size for the properties."),
           changed_since: Optional[str] = typer.Option(None, "--changed-since", metavar="REV",
                                                       help="Only mutants of rules changed since this git revision."),
           files: Optional[list[str]] = typer.Option(None, "--files", metavar="FILE",
                                                     help="Only mutants of the rules in this file (repeatable)."),
           fail_under: Optional[float] = typer.Option(None, "--fail-under", metavar="PCT",
                                                      help="Exit 1 when the mutation score is below PCT."),
           policy: Optional[Path] = PolicyOption) -> None:
    """Mutation testing: small rule changes no check catches."""
    policy = _rules(policy)
    from .authoring.mutate import report_text, run, select_rules

    def action() -> Any:
        select = select_rules(policy, changed_since, files)
        return run(policy, scenarios or [Path("scenarios")], people, workers, limit, select=select)

    report = _run(action)
    typer.echo(report_text(report))
    if report.baseline_failures:
        raise typer.Exit(1)
    if fail_under is not None and report.score < fail_under:
        typer.echo(f"mutation score {report.score:.1f}% is below --fail-under {fail_under:g}%")
        raise typer.Exit(1)


@app.command()
def readings(json_output: bool = typer.Option(False, "--json", help="Print them as JSON."),
             policy: Optional[Path] = PolicyOption) -> None:
    """List the readings where the guidance is ambiguous."""
    policy = _rules(policy)
    found = _run(lambda: _readings(policy))
    typer.echo(dumps_json([r.to_dict() for r in found]) if json_output else readings_text(found), nl=json_output)


@app.command()
def record(case: Path = typer.Argument(..., help="A case file (YAML or JSON)."),
           fmt: str = typer.Option("text", "--format", help="text, markdown or html (one self-contained file)."),
           output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the draft to this file."),
           json_output: bool = typer.Option(False, "--json", help="Print the record's items as JSON (codes)."),
           policy: Optional[Path] = PolicyOption,
           reading: Optional[list[str]] = ReadingOption) -> None:
    """Draft the record of each decision in plain English."""
    policy = _rules(policy)
    from . import record as _record

    def action() -> str:
        result = _query_file(case, policy=policy, depends_on=False, readings=parse_choices(reading))
        return dumps_json(result.record.to_dict()) + "\n" if json_output else _record(result, format=fmt)

    text = _run(action)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        typer.echo(f"error: -o {output}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"record written to {output}", err=True)


@app.command()
def trace(fmt: str = typer.Option("text", "--format", help="text, markdown or json."),
          policy: Optional[Path] = PolicyOption) -> None:
    """Each paragraph of chapter 3 with the rules that encode it."""
    policy = _rules(policy)
    from .core.service import engine_for
    from .authoring.trace import trace as _trace, trace_json, trace_markdown, trace_text

    renderers = {"text": trace_text, "markdown": trace_markdown, "json": trace_json}
    if fmt not in renderers:
        typer.echo(f"error: --format: '{fmt}' is not one of text, markdown, json", err=True)
        raise typer.Exit(2)
    rows = _run(lambda: _trace(engine_for(policy).policy))
    typer.echo(renderers[fmt](rows), nl=fmt == "json")


# ------------------------------------------------------------------ serve, log, query --record-to (issue 19)

RegisterOption = typer.Option(None, "--register", metavar="DB", help="The register: a SQLite file or a "
                              "postgresql:// URL (default: $PYISP_REGISTER, else ./pyisp-register.sqlite3).")


def _record_to(where: Optional[str], result: Any) -> None:
    """`query --record-to`: append the result's decisions, asked by the user running pyisp."""
    if where:
        import getpass

        from .register import open_register, record_result

        def append() -> list[int]:
            register = open_register(where)
            try:
                return record_result(register, result, getpass.getuser())
            finally:
                register.close()

        rows = _run(append)
        typer.echo(f"recorded: rows {rows[0]}-{rows[-1]} of {where}" if rows else "recorded: nothing", err=True)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (default: this machine only)."),
          port: int = typer.Option(8080, "--port", help="Port to listen on."),
          solvers: int = typer.Option(0, "--solvers", min=0, help="Solver processes, each with a warm engine "
                                      "(default 0: one a core)."),
          workers: Optional[int] = typer.Option(None, "--workers", min=1, hidden=True,
                                                help="Deprecated: the number of --solvers."),
          tokens: Optional[Path] = typer.Option(None, "--tokens", help="YAML file of tokens: `tokens: [{name, role, "
                                                "token}]` (default: $PYISP_TOKENS, name:role:token, ...)."),
          register: Optional[str] = RegisterOption,
          max_body: int = typer.Option(4_000_000, "--max-body", min=1, help="Largest request body, in bytes."),
          max_batch_body: int = typer.Option(64_000_000, "--max-batch-body", min=1, help="Largest /v1/batch body."),
          max_batch_lines: int = typer.Option(10_000, "--max-batch-lines", min=1, help="Most cases in a batch."),
          log_level: str = typer.Option("info", "--log-level", help="uvicorn's: critical, error, warning, info."),
          policy: Optional[Path] = PolicyOption) -> None:
    """Serve decisions over HTTP, each kept in the register."""
    policy = _rules(policy)
    from .server.config import ServeConfig
    from .server.run import serve as _serve

    if workers is not None:
        typer.echo("pyisp serve: --workers is deprecated; it now sets --solvers (one acceptor process, "
                   f"{workers} solver process(es))", err=True)
        solvers = solvers or workers
    config = ServeConfig(policy=str(policy), register=register, tokens_file=str(tokens) if tokens else None,
                         max_body=max_body, max_batch_body=max_batch_body, max_batch_lines=max_batch_lines,
                         solvers=solvers)
    _run(lambda: _serve(config, host=host, port=port, log_level=log_level))


log_app = typer.Typer(no_args_is_help=True, help="The decision register: verify, show, export.")
app.add_typer(log_app, name="log")


def _open_register(where: Optional[str]) -> Any:
    from .register import open_register

    return _run(lambda: open_register(where, create=False))


@log_app.command("verify")
def log_verify(register: Optional[str] = RegisterOption) -> None:
    """Check the hash chain: name every edited, deleted or reordered row (exit 1 if any)."""
    from .register import verify

    opened = _open_register(register)
    rows, head = opened.snapshot()
    problems = verify(rows, head)
    for problem in problems:
        typer.echo(str(problem))
    seq = head[0]
    typer.echo(f"{seq} row(s); " + ("the chain verifies" if not problems else f"{len(problems)} problem(s)"))
    raise typer.Exit(1 if problems else 0)


@log_app.command("show")
def log_show(case: str = typer.Argument(..., help="A case id."),
             json_output: bool = typer.Option(False, "--json", help="Print the entries as JSON."),
             register: Optional[str] = RegisterOption) -> None:
    """A case's decisions, in the order they were made."""
    import json

    from .core.schema import printable

    rows = list(_open_register(register).rows(case))
    if json_output:
        typer.echo(dumps_json([{"seq": r.seq, **json.loads(r.entry), "hash": r.hash} for r in rows]))
        return
    if not rows:
        typer.echo(f"no decisions recorded for case {printable(case)}")
        raise typer.Exit(1)
    for row in rows:
        entry = json.loads(row.entry)
        typer.echo(f"#{row.seq} {row.at} {printable(row.who)}: {printable(row.disclosure)} "
                   f"{row.verdict.upper().replace('_', ' ')}  (rules sha256 "
                   f"{(entry.get('provenance') or {}).get('policy_sha256', '?')[:8]})")
        typer.echo("".join(f"    {line}".rstrip() + "\n" for line in entry.get("brief", "").splitlines()), nl=False)


@log_app.command("export")
def log_export(fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
               audience: str = typer.Option("auditor", "--audience", help="Whose masking rules apply: auditor, "
                                            "statistics or full (see pyisp/register/masking.yaml)."),
               masking: Optional[Path] = typer.Option(None, "--masking", help="Your own masking rules (same form)."),
               salt: str = typer.Option("", "--salt", envvar="PYISP_MASK_SALT", help="Salt of the pseudonyms."),
               output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write here, not to stdout."),
               register: Optional[str] = RegisterOption) -> None:
    """Export the register, masked for an audience (names and free text erased for an auditor)."""
    from .register import export

    opened = _open_register(register)

    def lines() -> list[str]:
        return list(export(opened.rows(), fmt, audience, salt, masking))

    text = "".join(_run(lines))
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)

# ------------------------------------------------------------------ (end of issue 19's block)


def main() -> None:
    """Entry point of the `pyisp` script."""
    app(prog_name="pyisp")


if __name__ == "__main__":
    sys.exit(main())
