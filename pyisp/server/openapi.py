"""The OpenAPI 3.1 document of `pyisp serve`, generated from the routes and from the JSON
Schemas that validate a case (core/schema.py) and describe a result (core/result_schema.py),
so that it cannot drift from what the service checks and answers."""

from __future__ import annotations

from typing import Any, Sequence

from ..core.policy import pyisp_version
from ..core.result_schema import result_schema
from ..core.schema import json_schema

_PROBLEMS = {"type": "object", "properties": {
    "error": {"type": "string"},
    "problems": {"type": "array", "items": {"type": "object", "properties": {
        "path": {"type": "string"}, "message": {"type": "string"}, "suggestion": {"type": ["string", "null"]}}}}}}
_ROLE = {"/v1/register/cases/{case}": "read", "/v1/register/verify": "admin", "/v1/register/export": "admin"}
_CASE_BODY = ("/v1/query", "/v1/explain", "/v1/record")
_QUERY_PARAMS = [
    {"name": "depends", "in": "query", "schema": {"type": "boolean"}, "description": "false: skip the search for "
     "the unknowns that decide an undetermined answer (`--no-depends`)."},
    {"name": "reading", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "explode": True,
     "description": "NAME=VALUE: another alternative of a named reading (repeatable)."},
    {"name": "no_presume", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "explode": True,
     "description": "Switch a presumption off (repeatable)."},
    {"name": "strict", "in": "query", "schema": {"type": "boolean"}, "description": "No presumptions."},
]


def openapi_document(routes: Sequence[Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in routes:
        for method in sorted(m for m in route.methods if m != "HEAD"):
            summary = (route.endpoint.__doc__ or "").strip().split("\n")[0]
            operation: dict[str, Any] = {"summary": summary, "responses": {
                "200": {"description": "the answer"},
                "400": {"description": "a malformed request: every problem with its field path",
                        "content": {"application/json": {"schema": _PROBLEMS}}},
                "401": {"description": "no token, or a token not known"},
                "403": {"description": "the token's role does not allow this"},
                "413": {"description": "the body is over the server's limit"}}}
            if route.path == "/healthz":
                operation = {"summary": summary, "security": [], "responses": {
                    "200": {"description": "ready"}, "503": {"description": "warming up"}}}
            else:
                operation["description"] = f"Needs a token of role `{_ROLE.get(route.path, 'query')}` or higher."
            if route.path in _CASE_BODY:
                operation["requestBody"] = {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Case"}},
                    "application/yaml": {"schema": {"$ref": "#/components/schemas/Case"}}}}
            if route.path == "/v1/query":
                operation["parameters"] = _QUERY_PARAMS
                operation["responses"]["200"]["content"] = {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Result"}}}
            if route.path == "/v1/batch":
                operation["parameters"] = _QUERY_PARAMS
                operation["requestBody"] = {"required": True, "content": {"application/x-ndjson": {
                    "schema": {"type": "string", "description": "one case (JSON) a line"}}}}
            if route.path == "/v1/register/cases/{case}":
                operation["parameters"] = [{"name": "case", "in": "path", "required": True,
                                            "schema": {"type": "string"}}]
            paths.setdefault(route.path, {})[method.lower()] = operation
    return {"openapi": "3.1.0",
            "info": {"title": "pyisp", "version": pyisp_version(),
                     "description": "Information sharing in child protection (London CPP chapter 3) as a decision "
                                    "service: every decision answered is appended to the register."},
            "paths": paths,
            "components": {"schemas": {"Case": json_schema(), "Result": result_schema()},
                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}]}
