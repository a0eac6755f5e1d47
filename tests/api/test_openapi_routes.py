"""Every route the app serves is in /api/v1/openapi.json, with the right security: a route
that answers without a token is documented as public, every other one as needing the bearer
token (issue 9: the document cannot lose a route)."""

from __future__ import annotations

import re

PUBLIC = {"/healthz", "/api/v1/openapi.json", "/api/v1/record-types", "/api/v1/rules",
          "/api/v1/calendar/working-days", "/api/v1/complaints/{tracking_no}",
          "/telegram/webhook", "/u", "/m/capture", "/m/sw.js",
          "/signin", "/c", "/c/{tracking_no}",
          "/api/v1/complaints/{tracking_no}/contact-confirmation"}
# Routes whose own credential is not the bearer token: a one-time link or the tus protocol.
OWN_CREDENTIAL = ("/api/v1/uploads", "/api/v1/upload-links/", "/api/v1/upload-link",
                  "/api/v1/miniapp/")  # Mini App init data, signed by Telegram
# The desk's pages: the session cookie a one-time sign-in link opens (issue 14).
DESK_SESSION = ("/desk", "/signout")


def _served(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        out |= {(m.lower(), path) for m in rule.methods if m not in ("HEAD", "OPTIONS")}
    return out


def test_every_served_route_is_documented(client, app):
    """No route the app serves is missing from the OpenAPI document."""
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert sorted(_served(app) - documented) == []


def test_security_matches_what_the_route_asks(client, app):
    """Public routes are documented as public; the others need the bearer token, and
    answer 401 without one."""
    doc = client.get("/api/v1/openapi.json").get_json()
    for method, path in sorted(_served(app)):
        op = doc["paths"][path][method]
        public = op.get("security") == []
        if path in PUBLIC:
            assert public, f"{method} {path} is public but documented as needing a token"
            continue
        if path.startswith(OWN_CREDENTIAL):
            continue
        url = re.sub(r"{[a-z_]+}", "0" * 32, path)
        if path.startswith(DESK_SESSION):
            assert op.get("security") == [{"deskSession": []}], f"{method} {path}"
            answer = client.open(url, method=method.upper())
            assert answer.status_code == (302 if method == "get" else 403), \
                f"{method} {path} answered {answer.status_code} without a session"
            continue
        assert not public, f"{method} {path} needs a token but is documented as public"
        if "{outbox_id}" in path:
            url = path.replace("{outbox_id}", "1")
        answer = client.open(url, method=method.upper(), json={})
        assert answer.status_code == 401, f"{method} {path} answered {answer.status_code}"
