"""Tokens of `pyisp serve` (issue 19): from a file or PYISP_TOKENS, roles that include the
ones below, constant-time identification, clean errors for a bad set-up."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pyisp.server.access import AccessError, identify, load_tokens

pytestmark = pytest.mark.xdist_group("test_serve_access")  # one worker: its server, register or database is shared by the file

GOOD = "alice:query:aaaaaaaaaaaaaaaa1,bob:read:bbbbbbbbbbbbbbbb2,carol:admin:cccccccccccccccc3"


def test_success_tokens_from_the_environment_name_the_caller_and_role() -> None:
    tokens = load_tokens(environ=GOOD)
    assert identify(tokens, "Bearer bbbbbbbbbbbbbbbb2").name == "bob"
    assert identify(tokens, "bearer cccccccccccccccc3").role == "admin"
    admin, query = identify(tokens, "Bearer cccccccccccccccc3"), identify(tokens, "Bearer aaaaaaaaaaaaaaaa1")
    assert admin.allows("read") and admin.allows("query") and not query.allows("read")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic aaaaaaaaaaaaaaaa1", "aaaaaaaaaaaaaaaa1",
                                    "Bearer aaaaaaaaaaaaaaaa", "Bearer aaaaaaaaaaaaaaaa1x"])
def test_fail_anything_but_a_known_bearer_token_names_no_one(header: str | None) -> None:
    assert identify(load_tokens(environ=GOOD), header) is None


def test_success_a_file_may_keep_only_the_digest(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"dddddddddddddddd4").hexdigest()
    path = tmp_path / "tokens.yaml"
    path.write_text(f"tokens:\n  - {{name: dan, role: read, sha256: {digest}}}\n"
                    "  - {name: eve, role: query, token: eeeeeeeeeeeeeeee5}\n", encoding="utf-8")
    tokens = load_tokens(path)
    assert [t.name for t in tokens] == ["dan", "eve"]
    assert identify(tokens, "Bearer dddddddddddddddd4").name == "dan"
    assert "eeeeeeeeeeeeeeee5" not in repr(tokens)  # only digests are kept


@pytest.mark.parametrize("environ, message", [
    ("", "no tokens"),
    ("alice:query:short", "at least 16"),
    ("alice:root:aaaaaaaaaaaaaaaa1", "role must be one of query, read, admin"),
    ("alice:query:aaaaaaaaaaaaaaaa1,alice:read:bbbbbbbbbbbbbbbb2", "given to two tokens"),
    ("al ice:query:aaaaaaaaaaaaaaaa1", "name must be"),
])
def test_fail_a_bad_token_set_up_is_an_access_error(environ: str, message: str) -> None:
    with pytest.raises(AccessError) as caught:
        load_tokens(environ=environ)
    assert message in str(caught.value)
    assert "aaaaaaaaaaaaaaaa1" not in str(caught.value) and "short" not in str(caught.value).split(":")[-1]


def test_fail_a_tokens_file_that_is_not_a_list_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text("alice: aaaaaaaaaaaaaaaa1\n", encoding="utf-8")
    with pytest.raises(AccessError) as caught:
        load_tokens(path)
    assert caught.value.where == str(path) and "aaaaaaaaaaaaaaaa1" not in str(caught.value)
