"""A client that walks a case to closed knowing nothing of the regulation: each request is
chosen from the case's next_actions, and each body is filled from the OpenAPI document's schema
for it (issue 15). It counts the requests and the refused ones. Used by tests/api/test_walk.py
and bench/api_walk.py."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# (method, path, token, json) → (status, body); the transport is the caller's.
Send = Callable[[str, str, str, dict | None], tuple[int, dict]]

PNG = base64.b64encode(base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
    "rkJggg==")).decode()
KIND_ORDER = ("approve", "correct_record", "sign", "add_evidence", "add_record", "draw",
              "build_dossier", "archive_dossier", "transition")


@dataclass
class Walk:
    """What a walk did: every request in order, and how it ended."""

    log: list[tuple[str, str, int]] = field(default_factory=list)
    stage: str = ""
    last: dict = field(default_factory=dict)  # the case as last seen, for a failure message
    refusals: list = field(default_factory=list)  # (action, answer) of each refused request

    @property
    def requests(self) -> int:
        """Requests sent."""
        return len(self.log)

    @property
    def failed(self) -> int:
        """Requests answered 4xx or 5xx."""
        return sum(1 for _, _, status in self.log if status >= 400)


class Walker:
    """Walks one case with the department's people (a user per role, each with a token)."""

    def __init__(self, send: Send, people: list[dict]):
        self.send_raw = send
        self.people = people
        self.walk = Walk()
        self.doc: dict = {}
        self.certified: list[str] = []

    def send(self, user: dict, method: str, path: str, body: dict | None = None
             ) -> tuple[int, dict]:
        """One counted request."""
        status, answer = self.send_raw(method, path, user["token"], body)
        self.walk.log.append((method, path, status))
        return status, answer

    def wait_for_job(self, user: dict, job: dict, *, polls: int = 1200) -> dict:
        """Wait for a dossier build (202 with a job) as a client would, polling its progress
        (GET /dossier-jobs/{id}); the polls are not counted as steps of the walk."""
        import time

        for _ in range(polls):
            if job.get("status") in ("done", "failed"):
                break
            time.sleep(0.1)
            _, job = self.send_raw("GET", f"/api/v1/dossier-jobs/{job['id']}", user["token"],
                                   None)
        return job

    # --- schema-driven bodies -----------------------------------------------------------------

    def schema(self, name_or_ref: str) -> dict:
        """A component schema by name or $ref."""
        name = name_or_ref.rsplit("/", 1)[-1]
        return self.doc["components"]["schemas"][name]

    def value(self, schema: dict, name: str = ""):
        """A plausible value for a schema: its const, example or first choice, now for a
        time, today for a date."""
        if "$ref" in schema:
            return self.value(self.schema(schema["$ref"]), name)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "boolean":
            return False
        if kind == "integer":
            low = schema.get("minimum")
            return low if low is not None and low >= 1 else 1
        if kind == "number":
            return 0
        if kind == "array":
            return [self.value(schema.get("items", {"type": "string"}), name)]
        fmt = schema.get("format")
        now = datetime.now(UTC)
        if fmt == "date-time":
            return (now - timedelta(minutes=1)).isoformat()
        if fmt == "date":
            return (now + timedelta(hours=8)).date().isoformat()
        if schema.get("examples"):
            return schema["examples"][0]
        return f"{schema.get('title') or name}（示例）"

    def record_body(self, action: dict, user: dict) -> dict:
        """The body of an add_record action: its start, each required field filled from the
        type's schema, and the officers a field record needs (A14.1)."""
        schema = self.schema(action["schema"])
        fields_schema = self.schema(schema["properties"]["fields"]["$ref"])
        body = {**action["body"], "fields": dict(action["body"].get("fields") or {})}
        for name in fields_schema.get("required", []):
            if name not in body["fields"]:
                body["fields"][name] = self.value(fields_schema["properties"][name], name)
        for cond in fields_schema.get("allOf", []):  # required_if
            (other, rule), = cond["if"]["properties"].items()
            if body["fields"].get(other) == rule["const"]:
                for name in cond["then"]["required"]:
                    body["fields"].setdefault(name, self.value(
                        fields_schema["properties"][name], name))
        officers = schema["properties"].get("officers", {})
        if "officers" in schema.get("required", []):
            need = officers.get("minItems", 1)
            others = [o for o in self.certified if o != user["id"]]
            body["officers"] = [user["id"], *others[:need - 1]]
        return body

    # --- choosing ---------------------------------------------------------------------------

    def who(self, action: dict, first: dict) -> dict | None:
        """Who sends an action: the caller when allowed, else someone holding its role (for
        an officer's signature, that officer)."""
        if action["kind"] == "sign" and action["body"].get("signer_officer_id"):
            # An officer signs (or serves) for themself.
            return next((p for p in self.people
                         if p["id"] == action["body"]["signer_officer_id"]), None)
        if action["allowed"]:
            return first
        if action.get("role"):
            return next((p for p in self.people if action["role"] in p["roles"]), None)
        return None

    def body_for(self, action: dict, user: dict) -> dict:
        """The request body of an action."""
        if action["kind"] in ("add_record", "correct_record"):
            return self.record_body(action, user)
        if action["kind"] == "sign":
            body = {**action["body"], "image_base64": PNG}
            if action["role"] != "officer":
                body["signer_name"] = f"{action['role']}（示例）"
            return body
        if action["kind"] == "approve":
            return {"decision": "approve", "opinion": "同意"}
        return dict(action["body"])

    def choose(self, actions: list[dict], lead: dict, tried: set) -> list[tuple]:
        """The next request to send; with a signature, every other signature listed too (they
        do not depend on each other, so the case need not be read again between them)."""
        batch = []
        for action in sorted(actions, key=lambda a: KIND_ORDER.index(a["kind"])):
            user = self.who(action, lead)
            key = (action["path"], repr(action["body"]))
            if user is None or key in tried or action["kind"] == "add_evidence":
                continue
            if batch and (action["kind"] != "sign" or batch[0][0]["kind"] != "sign"):
                break
            batch.append((action, user, key))
        return batch

    def run(self, case_id: str, *, max_requests: int = 300) -> Walk:
        """Walk the case until it is closed, nothing can be done, or the budget is spent."""
        lead = self.people[0]
        _, self.doc = self.send(lead, "GET", "/api/v1/openapi.json")
        _, found = self.send(lead, "GET", "/api/v1/officers?certified=true")
        self.certified = [o["id"] for o in found["officers"]]
        tried: set[tuple[str, str]] = set()
        while self.walk.requests < max_requests:
            _, case = self.send(lead, "GET", f"/api/v1/cases/{case_id}")
            self.walk.stage, self.walk.last = case["stage"], case
            if case["stage"] == "closed":
                break
            batch = self.choose(case["next_actions"], lead, tried)
            if not batch:
                break
            for action, user, key in batch:
                status, answer = self.send(user, action["method"], action["path"],
                                           self.body_for(action, user))
                if status >= 400:
                    tried.add(key)  # a refused action is not sent the same way again
                    self.walk.refusals.append((action, answer))
                elif action["kind"] == "build_dossier":
                    self.wait_for_job(user, answer)
        return self.walk
