"""Who may call the service: bearer tokens, each with a name and a role.

Roles, each including the ones before it: `query` (answer cases: query, explain, record,
batch, schema, readings, version), `read` (also read the register: a case's decisions),
`admin` (also verify and export the register). Tokens come from a YAML/JSON file
(`tokens: [{name, role, token}]`, or `sha256` instead of `token` to keep only the digest)
or from PYISP_TOKENS (`name:role:token`, several separated by commas). Only their sha256
digests are kept in memory; a presented token is compared with every digest in constant
time (hmac.compare_digest, no early exit), and is never logged or echoed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import PyispError

ROLES = ("query", "read", "admin")
MIN_TOKEN_CHARS = 16
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


TOKENS_ENV = "PYISP_TOKENS"  # the tokens when no file is given (never passed on to the solver processes)

class AccessError(PyispError):
    """The token set-up cannot be used; `where` names the file (or PYISP_TOKENS) and entry."""


@dataclass(frozen=True)
class Token:
    """A caller: a name (what the register records as who asked), a role, the token's digest."""

    name: str
    role: str
    digest: bytes = b""

    def allows(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def _entry(name: Any, role: Any, token: Any, digest: Any, where: str) -> Token:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", name):
        raise AccessError("a token's name must be 1-64 letters, digits or _.@-", where=where)
    if role not in ROLES:
        raise AccessError(f"the role must be one of {', '.join(ROLES)}", where=where)
    if digest is not None:
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise AccessError("sha256 must be 64 lower-case hex digits", where=where)
        return Token(name, role, bytes.fromhex(digest))
    if not isinstance(token, str) or len(token) < MIN_TOKEN_CHARS or not token.isprintable() or " " in token:
        raise AccessError(f"a token must be at least {MIN_TOKEN_CHARS} printable characters without spaces "
                          "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)", where=where)
    return Token(name, role, hashlib.sha256(token.encode("utf-8")).digest())


def load_tokens(path: str | Path | None = None, environ: str | None = None) -> tuple[Token, ...]:
    """The tokens of a file, else of PYISP_TOKENS; an AccessError when there are none (the
    service does not run open)."""
    found: list[Token] = []
    if path:
        source = str(path)
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise AccessError(f"cannot read the tokens: {type(exc).__name__}", where=source) from None
        items = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise AccessError("must hold `tokens:`, a list of {name, role, token}", where=source)
        for index, item in enumerate(items):
            where = f"{source}: tokens[{index}]"
            if not isinstance(item, dict):
                raise AccessError("must be a mapping {name, role, token}", where=where)
            found.append(_entry(item.get("name"), item.get("role"), item.get("token"), item.get("sha256"), where))
    else:
        text = environ if environ is not None else os.environ.get(TOKENS_ENV, "")
        for index, item in enumerate(filter(None, (p.strip() for p in text.split(",")))):
            name, _, rest = item.partition(":")
            role, _, token = rest.partition(":")
            found.append(_entry(name, role, token, None, f"PYISP_TOKENS entry {index + 1}"))
    if not found:
        raise AccessError("no tokens: give --tokens FILE or set PYISP_TOKENS (name:role:token, ...); "
                          "every request needs one", where=str(path) if path else TOKENS_ENV)
    names = [t.name for t in found]
    for name in names:
        if names.count(name) > 1:
            raise AccessError(f"the name {name!r} is given to two tokens", where=str(path or TOKENS_ENV))
    return tuple(found)


def identify(tokens: tuple[Token, ...], authorization: str | None) -> Token | None:
    """The caller an Authorization header names, or None. Every digest is compared, in
    constant time, whatever the header."""
    scheme, _, presented = (authorization or "").partition(" ")
    digest = hashlib.sha256(presented.strip().encode("utf-8", "replace")).digest()
    match = None
    for token in tokens:
        if hmac.compare_digest(digest, token.digest):
            match = token
    return match if scheme.lower() == "bearer" and presented.strip() else None
