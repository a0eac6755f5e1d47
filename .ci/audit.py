"""Dependency advisories for `make lint` (issue 12).

Every pinned package of requirements.txt and requirements-dev.txt is looked up in PyPI's
advisory data (the JSON API, ``/pypi/<name>/<version>/json``, its ``vulnerabilities`` field:
PyPA's advisory database and OSV), concurrently, with a short timeout per request and a bound
on the whole run. A known vulnerability fails the lint unless .ci/audit-ignore.json names it
with a reason and an expiry date that has not passed. A package PyPI cannot answer for (PyPI
out of reach, a timeout, a version page it does not serve) is checked against the vendored,
hand-kept list .ci/advisories.json instead, and the output says so plainly.

    .venv/bin/python .ci/audit.py                       # exit 1 on an affected pin
    .venv/bin/python .ci/audit.py --index-url http://127.0.0.1:8080   # another JSON API

Exit status: 0 clean, 1 affected (or an expired ignore), 2 a malformed ignore file.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from packaging.version import InvalidVersion, Version

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")
INDEX = "https://pypi.org"
TIMEOUT_S = 8.0  # one request
DEADLINE_S = 50.0  # the whole online check; a request started just before ends by +TIMEOUT_S
WORKERS = 16
MAX_BODY = 64 << 20  # a project page lists every release's files: pydantic-core's is over 8 MB


def pins(*files: Path) -> dict[str, str]:
    """Package (normalised name) → pinned version, from requirements files."""
    out = {}
    for path in files:
        for line in path.read_text().splitlines():
            m = PIN.match(line.strip())
            if m:
                out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


def offline(pinned: dict[str, str], advisories: list[dict]) -> list[str]:
    """The vendored advisories a pin is affected by (pinned version below the fixed one)."""
    found = []
    for adv in advisories:
        version = pinned.get(adv["package"])
        if version is None:
            continue
        try:
            if Version(version) < Version(adv["fixed"]):
                found.append(f"{adv['package']}=={version}: {adv['id']} ({adv['summary']}); "
                             f"fixed in {adv['fixed']}")
        except InvalidVersion:
            found.append(f"{adv['package']}=={version}: version not comparable with {adv['id']}")
    return found


# --- the online lookup -------------------------------------------------------------------

@dataclass
class Answer:
    """What PyPI said about one pin: ``ok`` with its vulnerabilities, ``unknown`` (PyPI
    answered but has no page for this version) or ``unreachable`` (no answer in time)."""

    package: str
    version: str
    status: str
    vulns: list[dict] = field(default_factory=list)
    reason: str = ""


class _NotFound(Exception):
    pass


def _get_json(url: str, timeout: float) -> dict:
    req = urllib.request.Request(url, headers={"Accept": "application/json",  # noqa: S310
                                               "User-Agent": "quancheng-audit"})
    try:
        # http(s) only: main() refuses any other scheme in --index-url.
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            body = resp.read(MAX_BODY + 1)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise _NotFound(url) from None
        raise
    if len(body) > MAX_BODY:
        raise ValueError("answer too large")
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("answer is not a JSON object")
    return data


def _vulns(data: dict) -> list[dict]:
    vulns = data.get("vulnerabilities")
    if not isinstance(vulns, list) or not all(isinstance(v, dict) for v in vulns):
        raise ValueError("no vulnerabilities list in the answer")
    return vulns


def lookup(index: str, package: str, version: str, timeout: float) -> Answer:
    """PyPI's vulnerabilities of one pinned version. When the version's page is missing, the
    project's page serves if its newest release is the pin (its list is that release's)."""
    name = urllib.parse.quote(package, safe="")
    try:
        try:
            data = _get_json(f"{index}/pypi/{name}/{urllib.parse.quote(version, safe='')}/json",
                             timeout)
            return Answer(package, version, "ok", _vulns(data))
        except _NotFound:
            data = _get_json(f"{index}/pypi/{name}/json", timeout)
            latest = (data.get("info") or {}).get("version")
            if latest == version:
                return Answer(package, version, "ok", _vulns(data))
            return Answer(package, version, "unknown",
                          reason=f"PyPI serves no page for {version} (newest is {latest})")
    except _NotFound:
        return Answer(package, version, "unknown", reason="PyPI does not know this package")
    except (OSError, ValueError, urllib.error.URLError) as exc:  # timeouts are OSErrors
        return Answer(package, version, "unreachable", reason=f"{type(exc).__name__}: {exc}"[:160])


def lookup_all(index: str, pinned: dict[str, str], *, timeout: float = TIMEOUT_S,
               deadline_s: float = DEADLINE_S) -> list[Answer]:
    """Every pin looked up concurrently; whatever has not answered by the deadline counts as
    unreachable (its thread is left to its own timeout)."""
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures = {pool.submit(lookup, index, p, v, timeout): (p, v) for p, v in pinned.items()}
    answers, pending = [], set(futures)
    end = time.monotonic() + deadline_s
    while pending and time.monotonic() < end:
        done, pending = wait(pending, timeout=end - time.monotonic(),
                             return_when=FIRST_COMPLETED)
        answers.extend(f.result() for f in done)
    answers.extend(Answer(*futures[f], "unreachable", reason=f"no answer in {deadline_s:g} s")
                   for f in pending)
    pool.shutdown(wait=False, cancel_futures=True)
    return sorted(answers, key=lambda a: a.package)


# --- decisions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Ignore:
    """A reviewed exception: this advisory does not apply to us, for this reason, until then."""

    id: str
    reason: str
    expires: date
    package: str | None = None


class BadIgnoreFile(ValueError):
    """The ignore file is not a list of {id, reason, expires[, package]}."""


def load_ignores(path: Path) -> list[Ignore]:
    """The ignore file's entries, each with an ID, a reason and an ISO expiry date."""
    if not path.exists():
        return []
    try:
        raw = json.loads(path.read_text())
    except ValueError as exc:
        raise BadIgnoreFile(f"{path.name}: not JSON ({exc})") from None
    entries = raw.get("ignore") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise BadIgnoreFile(f'{path.name}: expected {{"ignore": [...]}}')
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or set(e) - {"id", "reason", "expires", "package"}:
            raise BadIgnoreFile(f"{path.name}: entry {i} must have id, reason, expires "
                                "(and optionally package) only")
        if not all(isinstance(e.get(k), str) and e[k].strip() for k in ("id", "reason")):
            raise BadIgnoreFile(f"{path.name}: entry {i} needs an id and a reason")
        try:
            expires = date.fromisoformat(str(e.get("expires")))
        except ValueError:
            raise BadIgnoreFile(f"{path.name}: entry {i} needs expires as YYYY-MM-DD") from None
        package = e.get("package")
        out.append(Ignore(e["id"].strip(), e["reason"].strip(), expires,
                          re.sub(r"[-_.]+", "-", package).lower() if package else None))
    return out


@dataclass
class Verdict:
    """The lines to print and whether the lint fails."""

    affected: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


def decide(answers: list[Answer], ignores: list[Ignore], today: date) -> Verdict:
    """Each live (not withdrawn) vulnerability of a pin: ignored by a current entry naming it
    (by its ID or an alias, and its package when the entry gives one), else affected; an
    entry past its expiry ignores nothing and is reported."""
    verdict = Verdict()
    for a in answers:
        if a.status != "ok":
            continue
        for v in a.vulns:
            if v.get("withdrawn"):
                continue
            vid = str(v.get("id") or "?")
            names = {vid, *(str(x) for x in v.get("aliases") or [])}
            fixed = ", ".join(str(x) for x in v.get("fixed_in") or []) or "no fixed version"
            summary = str(v.get("summary") or v.get("details") or "").strip().splitlines()
            line = (f"{a.package}=={a.version}: {vid}"
                    f"{' (' + ', '.join(sorted(names - {vid})) + ')' if names - {vid} else ''}"
                    f"{': ' + summary[0][:100] if summary else ''}; fixed in {fixed}")
            entry = next((i for i in ignores if i.id in names
                          and i.package in (None, a.package)), None)
            if entry is None:
                verdict.affected.append(line)
            elif entry.expires < today:
                verdict.expired.append(f"{line} — ignore entry expired {entry.expires}")
            else:
                verdict.ignored.append(f"{line} — ignored until {entry.expires}: {entry.reason}")
    return verdict


def main(argv: list[str] | None = None) -> int:
    """Look every pin up, decide, print, and return the exit status."""
    ap = argparse.ArgumentParser(prog="audit.py", description=__doc__.splitlines()[0])
    ap.add_argument("--index-url", default=os.environ.get("QC_AUDIT_INDEX", INDEX),
                    help="base of PyPI's JSON API (default %(default)s)")
    ap.add_argument("--requirements", type=Path, nargs="+",
                    default=[ROOT / "requirements.txt", ROOT / "requirements-dev.txt"])
    ap.add_argument("--ignore-file", type=Path, default=HERE / "audit-ignore.json")
    ap.add_argument("--advisories", type=Path, default=HERE / "advisories.json")
    ap.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per request")
    ap.add_argument("--deadline", type=float, default=DEADLINE_S,
                    help="seconds for the whole online check")
    ap.add_argument("--today", type=date.fromisoformat, default=datetime.now(UTC).date(),
                    help=argparse.SUPPRESS)  # tests of expiry
    args = ap.parse_args(argv)
    try:
        ignores = load_ignores(args.ignore_file)
    except BadIgnoreFile as exc:
        print(f"advisories: {exc}")
        return 2
    pinned = pins(*args.requirements)
    vendored = json.loads(args.advisories.read_text())
    index = args.index_url.rstrip("/")
    if urllib.parse.urlsplit(index).scheme not in ("http", "https"):
        print(f"advisories: --index-url must be http(s), not {index!r}")
        return 2

    started = time.monotonic()
    answers = lookup_all(index, pinned, timeout=args.timeout, deadline_s=args.deadline)
    checked = [a for a in answers if a.status == "ok"]
    missing = [a for a in answers if a.status != "ok"]
    print(f"advisories: {len(checked)} of {len(pinned)} pinned packages checked against "
          f"PyPI's advisory data at {index} in {time.monotonic() - started:.1f} s")
    if missing and not checked:
        print(f"advisories: CANNOT REACH PyPI's advisory database at {index} "
              f"({missing[0].reason}): falling back to the vendored list "
              f"{args.advisories.name} of {vendored['updated']} for every package")
    elif missing:
        print(f"advisories: PyPI could not answer for {len(missing)} packages; they are checked "
              f"against the vendored list {args.advisories.name} of {vendored['updated']} only:")
        for a in missing:
            print(f"  NOT CHECKED ONLINE {a.package}=={a.version}: {a.reason}")
    verdict = decide(answers, ignores, args.today)
    fallback = offline({a.package: a.version for a in missing}, vendored["advisories"])
    for line in verdict.ignored:
        print(f"  IGNORED {line}")
    for line in verdict.expired:
        print(f"  EXPIRED IGNORE {line}")
    for line in verdict.affected:
        print(f"  AFFECTED {line}")
    for line in fallback:
        print(f"  AFFECTED (vendored list) {line}")
    bad = verdict.affected or verdict.expired or fallback
    if not bad:
        print("advisories: no known vulnerability in the pinned packages")
    return 1 if bad else 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    # Not sys.exit: it would wait for a lookup thread still trickling past the deadline.
    os._exit(status)
