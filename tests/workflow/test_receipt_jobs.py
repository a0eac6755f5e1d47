"""Issue 12, finding 2: the 送达回证 (A23.1) is drawn after the signature's transaction has
committed, by an idempotent media task (core.evidence.receipt_tasks), with every signature
image decoded in the parser sandbox, never in the web process."""

from __future__ import annotations

import base64
import io
import time

from PIL import Image, ImageFile
from sqlalchemy import select

from capture import pool as pool_mod
from capture.signature_image import BOX
from core.cases import receipts
from core.cases.models import Evidence, Signature
from core.evidence import receipt_tasks
from core.evidence.models import MediaTask
from tests.workflow.test_image_bombs import _png_bomb


def _served(flow):
    """A penalty case in the decision stage with a rights notice and its direct service."""
    case = flow.filed()
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    notice = flow.done(case, "rights_notice")
    service = flow.record(case, "service_direct", officers=[flow.officer["id"]],
                          document_id=notice["id"])
    return case, service


def _rows(container, model, *where):
    with container.uow() as uow:
        return list(uow.session.execute(select(model).where(*where)).scalars())


def _receipts(container, record_id):
    return _rows(container, Evidence, Evidence.record_id == record_id,
                 Evidence.method == "generated")


def _task(container, record_id, kind):
    with container.uow() as uow:
        return receipt_tasks.task_of(uow.session, record_id, kind)


def _big_png(size=(4000, 3000)) -> bytes:
    """A legitimate but large scan of a signature (12 MP: 12 MB once decoded)."""
    im = Image.new("L", size, 255)
    im.paste(0, (100, 100, size[0] - 100, 400))  # an ink stroke
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def test_signing_answers_before_the_receipt_and_says_where_it_will_be(flow, container):
    """A23.1: the service record and the completing signature commit with a task each and no
    PDF; the answers say the receipt is being prepared; the worker then makes both once."""
    case, service = _served(flow)
    assert service["receipt"]["kind"] == "draft" and "送达回证正在生成" in \
        service["receipt"]["message_zh"]
    assert _receipts(container, service["id"]) == []  # nothing drawn in the request
    flow.sign(case, service, "server", officer_id=flow.officer["id"])
    signed = flow.sign(case, service, "recipient")
    assert signed["receipt"]["kind"] == "final" and signed["receipt"]["status"] == "pending"
    assert _task(container, service["id"], receipt_tasks.FINAL).status == "pending"
    outcomes = receipt_tasks.run_due(container.uow)
    assert sorted(o.status for o in outcomes) == ["done", "done"]
    made = _receipts(container, service["id"])
    assert sorted(e.meta["final"] for e in made) == [False, True]
    # Idempotent: run again (a job enqueued twice, a retry after a crash): nothing new.
    assert receipt_tasks.run_receipt(container.uow, service["id"], receipt_tasks.FINAL
                                     ).status == "busy"
    with container.uow() as uow:
        receipt_tasks.queue_receipt(uow.session, service["id"], receipt_tasks.FINAL)
    assert receipt_tasks.run_receipt(container.uow, service["id"], receipt_tasks.FINAL
                                     ).detail == "already kept"
    assert len(_receipts(container, service["id"])) == 2


def test_a_rendering_failure_keeps_the_signature_and_is_retried(flow, container, monkeypatch):
    """The PDF cannot be drawn: the signature stays committed, the failure is recorded on the
    task, and the next attempt makes the receipt."""
    case, service = _served(flow)
    receipt_tasks.run_due(container.uow)  # the draft
    flow.sign(case, service, "server", officer_id=flow.officer["id"])
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(receipts, "render", broken)
    flow.sign(case, service, "recipient")
    outcomes = receipt_tasks.run_due(container.uow)
    assert [o.status for o in outcomes] == ["retry"] and calls == [1]
    assert len(_rows(container, Signature, Signature.record_id == service["id"])) == 2
    task = _task(container, service["id"], receipt_tasks.FINAL)
    assert (task.status, task.attempts) == ("pending", 1)
    assert "renderer crashed" in task.last_error
    assert receipt_tasks.run_due(container.uow) == []  # waits for its retry interval
    monkeypatch.undo()
    with container.uow() as uow:  # the retry interval is over
        uow.session.get(MediaTask, task.id).lease_until = task.created_at
    assert [o.status for o in receipt_tasks.run_due(container.uow)] == ["done"]
    assert _task(container, service["id"], receipt_tasks.FINAL).status == "done"
    assert [e.meta["final"] for e in _receipts(container, service["id"])] == [False, True]
    # Attempts used up: the task says failed, the signatures are still there.
    monkeypatch.setattr(receipts, "render", broken)
    with container.uow() as uow:
        receipt_tasks.queue_receipt(uow.session, service["id"], receipt_tasks.FINAL)
    with container.uow() as uow:  # a new signature set would be drawn: forget the kept one
        for ev in uow.session.execute(select(Evidence).where(
                Evidence.record_id == service["id"])).scalars():
            ev.meta = {**ev.meta, "signatures": []}
    outcome = receipt_tasks.run_receipt(container.uow, service["id"], receipt_tasks.FINAL,
                                        max_attempts=1)
    assert outcome.status == "failed"
    assert _task(container, service["id"], receipt_tasks.FINAL).status == "failed"
    assert len(_rows(container, Signature, Signature.record_id == service["id"])) == 2


def test_the_receipt_has_the_images_decoded_only_in_the_sandbox(flow, container, client,
                                                                monkeypatch):
    """A 12-megapixel signature scan is accepted; when the receipt is drawn the pool makes it a
    small PNG and this process decodes nothing bigger than BOX."""
    case, service = _served(flow)
    receipt_tasks.run_due(container.uow)  # the draft, before anyone signed
    flow.sign(case, service, "server", officer_id=flow.officer["id"])
    big = _big_png()
    r = client.post(f"/api/v1/cases/{case['id']}/records/{service['id']}/signatures",
                    headers={"Authorization": f"Bearer {flow.officer['token']}"},
                    json={"role": "recipient", "signer_name": "周建国", "method": "signature",
                          "image_base64": base64.b64encode(big).decode()})
    assert r.status_code == 201, r.get_json()
    sandboxed, decoded = [], []
    real_call, real_load = pool_mod.ParserPool.signature_image, ImageFile.ImageFile.load

    def spy_call(self, source, **kw):
        result = real_call(self, source, **kw)
        sandboxed.append((result.width, result.height))
        return result

    def spy_load(self):
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(pool_mod.ParserPool, "signature_image", spy_call)
    monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)
    assert {o.status for o in receipt_tasks.run_due(container.uow)} == {"done"}
    monkeypatch.undo()
    final = next(e for e in _receipts(container, service["id"]) if e.meta["final"])
    # The 4000×3000 scan came back fitted into BOX (600×200): 267×200.
    assert any(h == BOX[1] and abs(w - 4000 * BOX[1] / 3000) <= 1 for w, h in sandboxed), \
        sandboxed
    assert len(sandboxed) == 2  # the server's and the recipient's image, each in the pool
    assert decoded and max(w * h for w, h in decoded) <= BOX[0] * BOX[1], decoded
    with container.uow() as uow, uow.blobs.open(final.sha256) as fh:
        pdf = fh.read()
    assert pdf.count(b"/Subtype /Image") == 2  # the server's and the recipient's


def test_a_stored_bomb_is_refused_by_the_sandbox(container):
    """An image stored before the cap is refused by the pool on its header, quickly: the
    receipt notes it instead of drawing it (core.cases.receipts._Page.image)."""
    with container.uow() as uow:
        sha = uow.blobs.put_bytes(_png_bomb()).sha256
        start = time.monotonic()
        assert receipts.drawable(uow, sha) is None
        assert receipts.drawable(uow, "0" * 64) is None  # lost
    assert time.monotonic() - start < 10
