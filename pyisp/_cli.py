"""The `pyisp` command: a thin layer over the library. Each command is one call into
pyisp and an exit code; errors are turned into a message and exit code 2 in one place."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from . import query_file as _query_file
from . import presumptions as _presumptions
from . import readings as _readings
from .core.case import dumps_json
from .errors import PyispError
from .core.reading import parse_choices
from .render.result_text import presumptions_text, readings_text, result_text
from .core.schema import json_schema

app = typer.Typer(add_completion=False, no_args_is_help=True,
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
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


NoPresumeOption = typer.Option(None, "--no-presume", metavar="NAME",
                               help="Switch a presumption off: the fact stays unknown (repeatable; see "
                                    "`pyisp presumptions`).")
StrictOption = typer.Option(False, "--strict", help="No presumptions: every fact the case leaves out is unknown.")


@app.command()
def query(case: Path = typer.Argument(..., help="A case file (YAML or JSON)."),
          json_output: bool = typer.Option(False, "--json", help="Print the full result as stable JSON."),
          no_depends: bool = typer.Option(False, "--no-depends", help="Skip the search for deciding unknowns."),
          policy: Optional[Path] = PolicyOption,
          reading: Optional[list[str]] = ReadingOption,
          no_presume: Optional[list[str]] = NoPresumeOption,
          strict: bool = StrictOption) -> None:
    """Answer a case: for each proposed disclosure, the verdict and why."""
    policy = _rules(policy)
    result = _run(lambda: _query_file(case, policy=policy, depends_on=not no_depends,
                                 readings=parse_choices(reading),
                                 presumptions=dict.fromkeys(no_presume or [], False), strict=strict))
    typer.echo(dumps_json(result.to_dict()) if json_output else result_text(result), nl=json_output)


@app.command()
def presumptions(json_output: bool = typer.Option(False, "--json", help="Print them as JSON."),
                 policy: Optional[Path] = PolicyOption) -> None:
    """List the presumptions: facts taken as so unless a case says otherwise, and the paragraphs behind them."""
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
          resume: bool = typer.Option(False, "--resume", help="Skip the cases already in the output "
                                      "(by id) or in the errors file, and append."),
          no_depends: bool = typer.Option(False, "--no-depends", help="Skip the search for deciding unknowns."),
          policy: Optional[Path] = PolicyOption) -> None:
    """Answer many cases: one result per line (the JSON of `query --json` with the case's id)."""
    policy = _rules(policy)
    from .core.batch import run_batch

    summary = _run(lambda: run_batch(source, output, errors=errors, jobs=jobs, strict=strict, resume=resume,
                                     depends_on=not no_depends, policy=policy))
    typer.echo(summary.table())
    if summary.errors:
        typer.echo(f"{summary.errors} malformed case(s): see {errors or str(output) + '.errors.jsonl'}", err=True)
        raise typer.Exit(2)


@app.command()
def upgrade(case: Path = typer.Argument(..., help="A case file (YAML or JSON) in any format version."),
            write: bool = typer.Option(False, "--write", help="Rewrite the file in place (comments are not kept)."))\
        -> None:
    """Print a case in the current case format (format 2), its shorthands written out."""
    from .core.case import upgrade_file

    text = _run(lambda: upgrade_file(case, write=write))
    if not write:
        typer.echo(text, nl=False)


@app.command()
def schema(result: bool = typer.Option(False, "--result", help="The JSON Schema of a result (`query --json`) "
                                       "instead of the case format's.")) -> None:
    """Print the case format (or, with --result, a result) as a JSON Schema."""
    from .core.result_schema import result_schema

    typer.echo(dumps_json(result_schema() if result else json_schema()))


@app.command("test")
def test_scenarios(paths: list[Path] = typer.Argument(None, help="Scenario files or folders (default: scenarios/)."),
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
                   policy: Optional[Path] = PolicyOption) -> None:
    """Run regression scenarios: a line per scenario, expected against got for each failure."""
    policy = _rules(policy)
    from .authoring.testreport import parse_readings, run_command

    code = _run(lambda: run_command(paths or [Path("scenarios")], policy=policy, junit_xml=junit_xml,
                                    coverage=coverage, fail_under=fail_under, compare=compare,
                                    readings=parse_readings(test_reading), echo=typer.echo))
    raise typer.Exit(code)


@app.command()
def verify(prop: Optional[list[str]] = typer.Option(None, "--property", help="Check only this property (repeatable)."),
           people: Optional[list[int]] = typer.Option(None, "--people", help="Domain size: up to N people "
                                                      "(repeatable; default 1 and 3)."),
           json_output: bool = typer.Option(False, "--json", help="Print the outcomes as JSON."),
           samples: int = typer.Option(40, "--samples", help="Generated cases for sound_unknowns."),
           policy: Optional[Path] = PolicyOption) -> None:
    """Check the properties of policy/properties.lp for every case of a bounded domain."""
    policy = _rules(policy)
    from .authoring.verify import DEFAULT_PEOPLE, verify as _verify
    from .authoring.verify_report import outcomes_text

    outcomes = _run(lambda: _verify(policy, prop, people or DEFAULT_PEOPLE, samples))
    typer.echo(dumps_json([o.to_dict() for o in outcomes]) if json_output else outcomes_text(outcomes))
    raise typer.Exit(0 if all(o.holds for o in outcomes) else 1)


@app.command()
def diff(old: str = typer.Argument(..., help="The old rules: a policy directory or a git revision."),
         new: str = typer.Argument(..., help="The new rules: a policy directory or a git revision."),
         people: Optional[list[int]] = typer.Option(None, "--people", help="Domain size (repeatable; default 1 "
                                                    "then 3)."),
         json_output: bool = typer.Option(False, "--json", help="Print the differences as JSON.")) -> None:
    """Find cases on which two versions of the rules disagree: one per differing output."""
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
    """Explain a case: per disclosure the verdict and what decides it, what to do now, what
    would settle or change it, and with --full the derivation; --why / --why-not X answer
    one question."""
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
    """Check clingo against pyDatalog, a second engine, on every output atom (needs pyisp[crosscheck])."""
    policy = _rules(policy)
    from .authoring.crosscheck import crosscheck as _crosscheck, render

    report = _run(lambda: _crosscheck(cases, seed, policy, facts, scenarios, against, completions))
    typer.echo(render(report))
    if report.disagreements:
        raise typer.Exit(1)


@app.command()
def mutate(scenarios: Optional[list[Path]] = typer.Argument(None, help="Scenario files or folders (default: "
                                                             "scenarios/)."),
           limit: Optional[int] = typer.Option(None, "--limit", help="Run only N mutants, spread over the rules."),
           workers: int = typer.Option(2, "--workers", help="Worker processes."),
           people: int = typer.Option(2, "--people", help="Domain size for the properties."),
           policy: Optional[Path] = PolicyOption) -> None:
    """Mutation testing: change the rules one small step at a time; list what no check catches."""
    policy = _rules(policy)
    from .authoring.mutate import report_text, run

    report = _run(lambda: run(policy, scenarios or [Path("scenarios")], people, workers, limit))
    typer.echo(report_text(report))


@app.command()
def readings(json_output: bool = typer.Option(False, "--json", help="Print them as JSON."),
             policy: Optional[Path] = PolicyOption) -> None:
    """List the readings: where the guidance is ambiguous, the alternatives and the one taken by default."""
    policy = _rules(policy)
    found = _run(lambda: _readings(policy))
    typer.echo(dumps_json([r.to_dict() for r in found]) if json_output else readings_text(found), nl=json_output)


@app.command()
def record(case: Path = typer.Argument(..., help="A case file (YAML or JSON)."),
           json_output: bool = typer.Option(False, "--json", help="Print the record as JSON."),
           policy: Optional[Path] = PolicyOption,
           reading: Optional[list[str]] = ReadingOption) -> None:
    """The record each decision needs: items filled from the case and the rules, and those still to supply."""
    policy = _rules(policy)
    from .core.record import record_text

    result = _run(lambda: _query_file(case, policy=policy, depends_on=False, readings=parse_choices(reading)))
    typer.echo(dumps_json(result.record.to_dict()) if json_output else record_text(result.record), nl=json_output)


@app.command()
def trace(fmt: str = typer.Option("text", "--format", help="text, markdown or json."),
          policy: Optional[Path] = PolicyOption) -> None:
    """The traceability matrix: each paragraph of chapter 3 with the rules that encode it, or why it is context."""
    policy = _rules(policy)
    from .core.service import engine_for
    from .authoring.trace import trace as _trace, trace_json, trace_markdown, trace_text

    renderers = {"text": trace_text, "markdown": trace_markdown, "json": trace_json}
    if fmt not in renderers:
        typer.echo(f"error: --format: '{fmt}' is not one of text, markdown, json", err=True)
        raise typer.Exit(2)
    rows = _run(lambda: _trace(engine_for(policy).policy))
    typer.echo(renderers[fmt](rows), nl=fmt == "json")


def main() -> None:
    """Entry point of the `pyisp` script."""
    app(prog_name="pyisp")


if __name__ == "__main__":
    sys.exit(main())
