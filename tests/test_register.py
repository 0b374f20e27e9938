"""The decision register (issue 19), the same tests on SQLite and on a live PostgreSQL:
append-only, a hash chain that names the edited, deleted or reordered row, a case's
decisions in order, exports masked per audience, and `pyisp query --record-to`."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any, Iterator

import pytest
from casekit import FACTS
from servekit import Postgres
from typer.testing import CliRunner

import pyisp
from pyisp._cli import app
from pyisp.register import export, open_register, record_result, verify

pytestmark = pytest.mark.xdist_group("test_register")  # one worker: its server, register or database is shared by the file

runner = CliRunner()
TEACHER = FACTS / "teacher-counselling-disclosure.yaml"  # Amy (14) and her mother, Ms Jones
TWO = FACTS / "competent-child-refuses-parent-agrees.yaml"


@pytest.fixture(scope="module")
def results() -> list[Any]:
    return [pyisp.query_file(path, depends_on=False) for path in (TEACHER, TWO, TEACHER)]


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def where(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "register.sqlite3")
    return request.getfixturevalue("postgres").fresh("t" + uuid.uuid4().hex[:12])


@pytest.fixture
def filled(where: str, results: list[Any]) -> Iterator[Any]:
    register = open_register(where)
    for index, result in enumerate(results):
        record_result(register, result, f"user{index}")
    yield register
    register.close()


def _sql(register: Any, statement: str, *args: Any) -> None:
    """Tamper with the register behind pyisp's back, as someone with database access could."""
    mark = register.mark
    conn = register._conn
    statement = statement.replace("?", mark)
    if isinstance(conn, sqlite3.Connection):
        conn.execute(statement, args)
    else:
        with conn.cursor() as cursor:
            cursor.execute(statement, args)
        conn.commit()


def _entry(register: Any, seq: int) -> dict[str, Any]:
    return json.loads(next(r for r in register.rows() if r.seq == seq).entry)


def test_success_every_decision_is_a_row_in_order_and_the_chain_verifies(filled: Any, results: list[Any]) -> None:
    rows = list(filled.rows())
    expected = [(r.case_id, d.id, d.verdict) for r in results for d in r.disclosures]
    assert [(r.case_id, r.disclosure, r.verdict) for r in rows] == expected
    assert [r.seq for r in rows] == list(range(1, len(expected) + 1))
    assert verify(filled.rows(), filled.head()) == []
    first = json.loads(rows[0].entry)
    assert first["who"] == "user0" and first["verdict"] == results[0].disclosures[0].verdict
    assert first["decision"] == results[0].disclosures[0].to_dict()  # findings, obligations, paragraphs
    assert first["record"]["items"][0]["item"] == "decision"
    assert first["provenance"]["policy_sha256"] == results[0].provenance.policy_sha256
    assert "to-social-care: UNDETERMINED" in first["brief"]
    assert [r.seq for r in filled.rows(TEACHER.stem)] == [1, len(expected)]  # a case's decisions, in order
    if isinstance(filled._conn, sqlite3.Connection):  # durable: WAL journal, every commit synced in full
        assert filled._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert filled._conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_fail_an_edited_entry_is_named(filled: Any) -> None:
    _sql(filled, "UPDATE pyisp_decisions SET entry = replace(entry, 'user1', 'mallory') WHERE seq = ?", 2)
    assert [str(p) for p in verify(filled.rows(), filled.head())] == [
        "row 2: edited: its entry no longer matches its hash"]


def test_fail_an_edited_column_is_named(filled: Any) -> None:
    _sql(filled, "UPDATE pyisp_decisions SET verdict = 'must_share' WHERE seq = ?", 1)
    assert [str(p) for p in verify(filled.rows(), filled.head())] == [
        "row 1: edited: a column no longer matches its hashed entry"]


def test_fail_an_edit_with_its_hash_recomputed_is_named(filled: Any) -> None:
    from pyisp.register.chain import canonical, row_hash

    entry = {**_entry(filled, 1), "verdict": "must_share"}
    row = next(filled.rows())
    text = canonical(entry)
    _sql(filled, "UPDATE pyisp_decisions SET entry = ?, verdict = ?, hash = ? WHERE seq = ?",
         text, "must_share", row_hash(1, row.prev_hash, text), 1)
    assert [str(p) for p in verify(filled.rows(), filled.head())] == [
        "row 1: edited, its hash recomputed: row 2 was chained to another row 1"]


def test_fail_a_deleted_row_is_named(filled: Any) -> None:
    _sql(filled, "DELETE FROM pyisp_decisions WHERE seq = ?", 2)
    assert [str(p) for p in verify(filled.rows(), filled.head())] == [
        "row 3: row 2 deleted (the chain jumps from row 1 to row 3)"]


def test_fail_a_row_deleted_from_the_end_is_named(filled: Any) -> None:
    last = filled.head()[0]
    _sql(filled, "DELETE FROM pyisp_decisions WHERE seq = ?", last)
    assert [str(p) for p in verify(filled.rows(), filled.head())] == [
        f"row {last}: row {last} deleted from the end (the register's head names row {last})"]


def test_fail_reordered_rows_are_named(filled: Any) -> None:
    rows = {r.seq: r for r in filled.rows()}
    for seq, other in ((1, 2), (2, 1)):
        source = rows[other]
        _sql(filled, "UPDATE pyisp_decisions SET entry = ?, prev_hash = ?, hash = ?, case_id = ?, disclosure = ?, "
                     "verdict = ?, at = ?, who = ? WHERE seq = ?", source.entry, source.prev_hash, source.hash,
             source.case_id, source.disclosure, source.verdict, source.at, source.who, seq)
    assert [str(p) for p in verify(filled.rows(), filled.head())] == [
        "row 1: reordered: it holds the entry written as row 2",
        "row 2: reordered: it holds the entry written as row 1"]


def test_success_log_verify_show_and_export_on_the_command_line(filled: Any, where: str) -> None:
    ok = runner.invoke(app, ["log", "verify", "--register", where])
    assert ok.exit_code == 0 and "the chain verifies" in ok.output
    shown = runner.invoke(app, ["log", "show", TEACHER.stem, "--register", where])
    assert shown.exit_code == 0
    assert [line.split()[0] for line in shown.output.splitlines() if line.startswith("#")] == ["#1", "#3"]
    _sql(filled, "DELETE FROM pyisp_decisions WHERE seq = ?", 2)
    broken = runner.invoke(app, ["log", "verify", "--register", where])
    assert broken.exit_code == 1 and "row 3: row 2 deleted" in broken.output


def test_success_an_auditor_sees_no_names_or_free_text_but_the_decisions(filled: Any) -> None:
    lines = list(export(filled.rows(), "jsonl", "auditor", salt="s"))
    text = "".join(lines)
    for secret in ("Amy", "amy", "Ms Jones", "counselling", "user0", TEACHER.stem):
        assert secret not in text
    first = json.loads(lines[0])
    assert first["verdict"] == "undetermined" and first["title"] is None and first["brief"] is None
    assert first["decision"]["deciding_paragraphs"] and all(v is None for v in
                                                   [i["values"] for i in first["record"]["items"]])
    who_is_amy = {f["code"]: f["args"] for f in first["decision"]["findings"]}["can_decide_for_self"][0]
    assert who_is_amy.startswith("p-") and who_is_amy in lines[-1]  # the same pseudonym in the same export
    assert json.loads(lines[0])["case"] == json.loads(lines[-1])["case"] != json.loads(lines[1])["case"]


def test_success_statistics_keep_verdicts_and_rules_only(filled: Any) -> None:
    first = json.loads(next(export(filled.rows(), "jsonl", "statistics")))
    assert first["record"] is None and first["who"] is None and first["decision"]["findings"] is None
    assert first["verdict"] == "undetermined" and first["provenance"]["policy_sha256"]


def test_success_csv_export_has_a_header_and_a_row_per_decision(filled: Any) -> None:
    lines = list(export(filled.rows(), "csv", "full"))
    assert lines[0].startswith("seq,at,who,case,disclosure,verdict,paragraphs,findings")
    assert len(lines) == 1 + filled.head()[0] and ",user0," in lines[1]


def test_fail_an_unknown_audience_or_format_is_a_clean_error(filled: Any, where: str) -> None:
    outcome = runner.invoke(app, ["log", "export", "--audience", "press", "--register", where])
    assert outcome.exit_code == 2 and "no audience 'press'" in outcome.output
    outcome = runner.invoke(app, ["log", "export", "--format", "xml", "--register", where])
    assert outcome.exit_code == 2 and "'xml' is not one of jsonl, csv" in outcome.output


def test_success_query_record_to_appends_the_decisions(where: str) -> None:
    outcome = runner.invoke(app, ["query", "--no-depends", "--record-to", where, str(TWO)])
    assert outcome.exit_code == 0
    register = open_register(where)
    try:
        rows = list(register.rows())
        assert [(r.case_id, r.verdict) for r in rows] == [
            (TWO.stem, d.verdict) for d in pyisp.query_file(TWO, depends_on=False).disclosures]
        assert verify(register.rows(), register.head()) == []
    finally:
        register.close()


def test_fail_log_commands_on_a_register_that_is_not_there_say_so(where: str) -> None:
    for command in (["log", "verify"], ["log", "show", "x"], ["log", "export"]):
        outcome = runner.invoke(app, [*command, "--register", where])
        assert outcome.exit_code == 2 and "no register" in outcome.output, outcome.output


def test_success_serve_appends_to_a_postgresql_register(postgres: Postgres, tmp_path: Any) -> None:
    """The service on PostgreSQL, as it is on SQLite in test_serve.py: decisions appended with
    who asked, read back by a `read` token, the chain verified by an `admin` one."""
    import httpx
    from servekit import Server, auth

    url = postgres.fresh("serve" + uuid.uuid4().hex[:8])
    server = Server(tmp_path, url).wait_ready(timeout=120)
    try:
        answer = httpx.post(server.url + "/v1/query", content=TWO.read_bytes(), headers=auth("asker"),
                            params={"depends": "false"}, timeout=60)
        assert answer.status_code == 200
        rows = httpx.get(f"{server.url}/v1/register/cases/{TWO.stem}", headers=auth("reader"), timeout=60).json()
        assert [(r["who"], r["verdict"]) for r in rows] == [
            ("asker", d["verdict"]) for d in json.loads(answer.content)["disclosures"]]
        assert httpx.get(server.url + "/v1/register/verify", headers=auth("boss"), timeout=60).json()["ok"]
    finally:
        server.stop()
    assert runner.invoke(app, ["log", "verify", "--register", url]).exit_code == 0


def test_fail_an_append_that_fails_half_way_leaves_nothing_behind(filled: Any) -> None:
    """A case of two decisions whose second row cannot be written: neither is kept."""
    from pyisp.register.store import RegisterError

    two = pyisp.query_file(FACTS / "pupil-trusts-head-of-year-only.yaml", depends_on=False)
    assert len(two.disclosures) == 2
    before, (seq, _) = [r.hash for r in filled.rows()], filled.head()
    _sql(filled, "INSERT INTO pyisp_decisions VALUES (?, 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x')", seq + 2)
    with pytest.raises(RegisterError) as caught:
        record_result(filled, two, "late")
    assert "cannot append" in str(caught.value) and caught.value.where
    _sql(filled, "DELETE FROM pyisp_decisions WHERE seq = ?", seq + 2)
    assert [r.hash for r in filled.rows()] == before and filled.head()[0] == seq
    assert verify(filled.rows(), filled.head()) == []


def test_success_appends_from_several_connections_at_once_form_one_chain(where: str, results: list[Any]) -> None:
    """As several worker processes or servers do: each connection appends under the register's lock."""
    import threading

    registers = [open_register(where) for _ in range(3)]
    errors: list[BaseException] = []

    def append(register: Any, name: str) -> None:
        try:
            for result in results * 2:
                record_result(register, result, name)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(r, f"w{i}")) for i, r in enumerate(registers) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    rows = list(registers[0].rows())
    assert len(rows) == 6 * 2 * len(results) and [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert verify(registers[0].rows(), registers[0].head()) == []
    for register in registers:
        register.close()


def test_success_a_kept_brief_is_the_brief_drawn_anew() -> None:
    """The register keeps each brief it draws for the next decision that would get the same
    text (pyisp/register/entry.py): every case of facts/, asked again under another case id,
    and with its people renamed, gets the brief drawn anew for it, word for word."""
    from pyisp.core.case import parse_document
    from pyisp.register import entries
    from pyisp.render.brief import brief_lines

    def drawn(result: Any) -> list[str]:
        return ["\n".join(brief_lines(result, d, changes=False)) + "\n" for d in result.disclosures]

    for path in sorted(FACTS.glob("*.yaml"))[::3]:
        data = parse_document(path.read_text(encoding="utf-8"), str(path))
        renamed = json.loads(json.dumps(data, default=str))
        for person in [renamed.get("child"), *(renamed.get("people") or [])]:
            if isinstance(person, dict) and person.get("name"):
                person["name"] = "Zed " + person["name"]
        for case in (data, {**data, "id": "another-id"}, renamed, data):
            result = pyisp.query(case, depends_on=False)
            assert [e["brief"] for e in entries(result, "t")] == drawn(result), path.name


def test_success_a_snapshot_taken_while_another_writer_appends_always_verifies(where: str, results: list[Any]) -> None:
    """`pyisp log verify` and the service's verify read the rows and the head in one
    transaction: an append landing meanwhile (another process's, the service's writer) is
    either wholly in what they read or not at all, never taken for tampering."""
    import threading
    import time

    from pyisp.register import entries

    reader, writer = open_register(where), open_register(where)  # two connections, as two processes
    made = entries(results[0], "writer")
    stop = threading.Event()

    def append() -> None:
        while not stop.is_set():
            writer.append(made)

    thread = threading.Thread(target=append)
    thread.start()
    try:
        seen: set[int] = set()
        for _ in range(2000):  # until the writer has appended between several snapshots
            rows, head = reader.snapshot()
            assert verify(rows, head) == [] and head[0] == len(rows)
            seen.add(head[0])
            if len(seen) > 5:
                break
            time.sleep(0.002)
    finally:
        stop.set()
        thread.join(30)
    assert len(seen) > 1  # the writer appended while the reader read
    reader.close()
    writer.close()


def test_success_an_entry_prepared_where_it_is_made_is_stored_as_the_entry_itself(where: str) -> None:
    """A solver process of `pyisp serve` prepares its entries for the chain
    (pyisp/register/chain.py, `prepare`: the canonical text cut around the row number), so
    that the register's writer only numbers and hashes them: each row holds the text and
    columns of the entry appended as it is, byte for byte, and the chain verifies (facts/
    cases, plain and prepared in turn; a case's metadata holding a date and a float, or the
    very number the cut is made at)."""
    from datetime import date

    from pyisp.register import entries
    from pyisp.register.chain import _MARK, canonical, prepare

    made = [e for path in sorted(FACTS.glob("*.yaml"))[::4] for e in entries(pyisp.query_file(path, depends_on=False), "t")]
    made += [{**made[0], "meta": {"on": date(2026, 1, 2), "share": 2.5e-05}},
             {**made[0], "meta": {"seq": _MARK, "note": f'"seq":{_MARK}'}}]
    ready = [prepare(e) for e in made]
    assert [r.entry is not None for r in ready[-2:]] == [False, True]  # the number in the entry: written whole
    register = open_register(where)
    for index, (entry, prepared) in enumerate(zip(made, ready)):
        register.append([prepared if index % 2 else entry])
    rows = list(register.rows())
    assert [r.entry for r in rows] == [canonical({**e, "seq": r.seq}) for r, e in zip(rows, made)]
    assert [(r.at, r.who, r.case_id, r.disclosure, r.verdict) for r in rows] == \
        [(e["at"], e["who"], e["case"], e["disclosure"], e["verdict"]) for e in made]
    assert verify(register.rows(), register.head()) == []
    register.close()
