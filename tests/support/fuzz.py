"""An OpenAPI fuzz run with schemathesis against a served app: every operation of
/api/v1/openapi.json gets generated requests (path ids pointing at a seeded case, so the routes
do real work), sent with a valid token, and each answer is checked for a server error, an
undocumented status code, a wrong content type and a body that breaks its schema. Used by
tests/api/test_schemathesis.py (few examples) and bench/api_fuzz.py (many)."""

from __future__ import annotations

import base64
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from werkzeug.serving import make_server

# A 1×1 PNG: a valid signature image.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
                       "hQGAhKmMIQAAAABJRU5ErkJggg==")


@dataclass
class FuzzReport:
    """What a run found: per operation the number of requests and the failures."""

    requests: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    refusals: dict = field(default_factory=dict)  # label → a sample 4xx body
    server_errors: int = 0
    operations: int = 0  # in the document

    @property
    def total(self) -> int:
        """Requests sent."""
        return sum(self.requests.values())


class Served:
    """The app on a free 127.0.0.1 port in a thread, stopped by close()."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.thread.join(5)


def seed_case(url: str, people: dict) -> dict:
    """A penalty case with an approved-in-part filing form and a signed inquiry: the ids the
    fuzzed paths point at."""
    s = requests.Session()

    def call(user, method, path, **kw):
        r = s.request(method, url + path, headers={"Authorization": f"Bearer {user['token']}"},
                      timeout=30, **kw)
        assert r.status_code < 300, (path, r.status_code, r.text)
        return r.json()

    officer = people["officer"]
    case = call(officer, "POST", "/api/v1/cases", json={
        "kind": "penalty", "initiation": "ex_officio", "title": "违法建设（接口测试）",
        "party": {"name": "岳阳某建设有限公司", "kind": "organisation"}})
    form = call(officer, "POST", f"/api/v1/cases/{case['id']}/records", json={
        "type": "filing_form", "fields": {"reason": "未取得施工许可擅自施工",
                                          "party_info": "岳阳某建设有限公司",
                                          "officer_opinion": "建议立案"}})
    now = datetime.now(UTC).isoformat()
    return {"case_id": case["id"], "record_id": form["id"], "draw_id": form["id"],
            "now": now}


CHECK_NAMES = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
               "response_schema_conformance")


def _checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance,
            response_schema_conformance]


CJK = re.compile(r"[\u4e00-\u9fff]")


def _check_chinese(label: str, response, report: FuzzReport) -> None:
    """Every refusal's message is in Chinese (no Accept-Language sent) and carries both
    languages (issue 15: one error language)."""
    if "json" not in response.headers.get("Content-Type", ""):
        return
    error = (response.json() or {}).get("error") or {}
    if not (CJK.search(error.get("message", "")) and CJK.search(error.get("message_zh", ""))
            and error.get("message_en")):
        report.failures.append(f"{label} → {response.status_code}: no Chinese message: "
                               f"{response.text[:200]}")


def _register_serializers() -> None:
    """tus PATCH bodies are plain bytes: send them as the octet-stream serializer does."""
    from schemathesis.transport.requests import REQUESTS_TRANSPORT, binary_serializer

    REQUESTS_TRANSPORT.serializer("application/offset+octet-stream")(binary_serializer)


def run(url: str, token: str, ids: dict, *, examples: int, skip: tuple[str, ...] = ()
        ) -> FuzzReport:
    """Fuzz every operation with at most ``examples`` generated requests each."""
    import schemathesis

    _register_serializers()
    doc = requests.get(url + "/api/v1/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(doc)
    report = FuzzReport()
    checks = _checks()
    session = requests.Session()
    for result in schema.get_all_operations():
        op = result.ok()
        label = f"{op.method.upper()} {op.path}"
        if op.path.startswith(skip):
            continue
        report.operations += 1
        names = {p.name for p in op.path_parameters}
        path_values = {k: v for k, v in ids.items() if k in names}
        strategy = op.as_strategy(path_parameters=path_values or None)

        exercise = _exerciser(label, url, session, token, report, checks)
        exercise = settings(max_examples=examples, deadline=None, database=None,
                            derandomize=True, phases=[Phase.explicit, Phase.generate],
                            suppress_health_check=list(HealthCheck))(given(case=strategy)(
                                exercise))
        try:
            exercise()
        except Unsatisfiable:
            report.failures.append(f"{label}: no valid request could be generated")
    return report


def _exerciser(label, url, session, token, report, checks):
    def exercise(case):
        response = case.call(base_url=url, session=session,
                             headers={"Authorization": f"Bearer {token}"}, timeout=60)
        report.requests[label] += 1
        report.statuses[f"{label} {response.status_code}"] += 1
        if response.status_code >= 500:
            report.server_errors += 1
        elif response.status_code >= 400:
            report.refusals.setdefault(f"{label} {response.status_code}", response.text[:400])
            _check_chinese(label, response, report)
        try:
            case.validate_response(response, checks=checks)
        except (Exception, BaseExceptionGroup) as exc:  # every failed check is reported
            text = str(exc).strip().splitlines()
            report.failures.append(f"{label} → {response.status_code}: "
                                       + " | ".join(text[:6]))

    return exercise
