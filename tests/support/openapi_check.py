"""Check a response body against the schema /api/v1/openapi.json documents for it."""

from __future__ import annotations

from jsonschema import Draft202012Validator
from referencing import Registry, Resource


def response_schema(doc: dict, method: str, path: str, status: int,
                    media: str = "application/json") -> dict:
    """The documented schema of one response (KeyError when the status is undocumented)."""
    op = doc["paths"][path][method.lower()]
    return op["responses"][str(status)]["content"][media]["schema"]


def check_response(doc: dict, method: str, path: str, status: int, body) -> None:
    """Raise jsonschema.ValidationError when the body breaks the documented schema."""
    schema = response_schema(doc, method, path, status)
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(
        {**doc, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
    wrapped = {"$schema": "https://json-schema.org/draft/2020-12/schema",
               **_rebase(schema)}
    Draft202012Validator(wrapped, registry=registry,
                         format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)


def _rebase(node):
    """Point local #/components refs at the registered document."""
    if isinstance(node, dict):
        return {k: ("urn:openapi" + v if k == "$ref" and v.startswith("#") else _rebase(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node
