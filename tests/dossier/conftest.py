"""Fixtures of the case-file tests: a penalty case played through the API to archiving, its
bag, and a fresh virtual environment with only `cryptography` for the bag's own verify.py."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from core.dossier import build_bag, load_case_file, seal_log
from tests.evidence.support import photo, upload
from tests.workflow.flow import Flow

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements.txt"


def play_penalty_case(flow: Flow, tmp_path: Path) -> dict:
    """A penalty case to its legal end: refusal to sign with witnesses, a real photo uploaded
    with GPS, lodged service with video, announcement, compliance, then archiving (A32.1)."""
    case = flow.filed(party={"name": "岳阳某建设有限公司", "id_number": "91430600MA4L000000",
                             "phone": "13900000000"})
    inspection = flow.record(case, "onsite_inspection_record")
    flow.sign_all(case, inspection, skip=("party",))
    flow.refuse(case, inspection, "party")
    shot = photo(tmp_path, when=flow.clock.now() - timedelta(minutes=5))
    r = upload(flow.client, flow.officer, case["id"], shot.read_bytes(),
               record_id=inspection["id"])
    assert r.status_code == 201, r.get_json()
    flow.av(case, inspection["id"])
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    flow.done(case, "handling_opinion", **{"legal_review_required": True})
    flow.done(case, "legal_review", user=flow.people["legal_reviewer"])
    notice = flow.done(case, "rights_notice")
    flow.serve(case, notice, "lodged")
    flow.later(days=21)
    pay_by = flow.clock.now().date() + timedelta(days=80)
    decision = flow.record(case, "decision", obligation=True, fine_amount_yuan=5000,
                           performance_deadline=pay_by.isoformat(), correction_ordered=True,
                           correction_period_days=15)
    flow.move(case, "service")
    for method in ("direct", "postal"):
        failed = flow.record(case, "service_attempt_failed", officers=[flow.officer["id"]],
                             document_id=decision["id"], method=method, reason="查无此人")
        flow.sign_all(case, failed)
    flow.serve(case, decision, "announcement")
    flow.later(days=36)
    flow.done(case, "compliance_record", decision_id=decision["id"], fine_paid=True)
    flow.done(case, "correction_check", decision_id=decision["id"])
    flow.move(case, "archiving")
    return case


def build(container, case_id: str, out: Path, **kw):
    """Seal the log and load the case in one transaction, then build the bag outside it."""
    with container.uow() as uow:
        seal_log(uow.session, uow.signer)
    with container.uow() as uow:
        cf = load_case_file(uow.session, case_id, uow.signer)
    result = build_bag(cf, container.blobs, out, container.signer, compiled_by="张伟",
                       checked_by="李娜", **kw)
    return cf, result


@pytest.fixture
def flow(client, people, container, clock) -> Flow:
    """A driver of cases through the HTTP API with the demo people."""
    return Flow(client, people, container, clock)


@pytest.fixture
def played(flow, tmp_path, container) -> dict:
    """The penalty case played to archiving, its case file and its bag."""
    case = play_penalty_case(flow, tmp_path)
    bag = tmp_path / "bag.zip"
    cf, result = build(container, case["id"], bag)
    return {"case": case, "cf": cf, "result": result, "bag": bag}


@pytest.fixture(scope="session")
def verifier_python(tmp_path_factory) -> Path:
    """A fresh virtual environment with only `cryptography` (the version the project pins)."""
    pin = next(line.strip() for line in REQUIREMENTS.read_text().splitlines()
               if line.lower().startswith("cryptography=="))
    cffi = [line.strip() for line in REQUIREMENTS.read_text().splitlines()
            if line.lower().startswith(("cffi==", "pycparser=="))]
    venv = tmp_path_factory.mktemp("verifier-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    pin, *cffi], check=True, env=env)
    return python
