"""Media work off the request path: the media_tasks table is the truth of the thumbnails owed,
a run is idempotent per evidence item, failures are recorded and retried, and lost jobs are
found again (issue 13 item 2; A37.1: originals are only read)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.evidence import media
from core.evidence.models import EvidencePreview, MediaTask
from core.kernel.clock import utcnow
from tests.capture import media as sample
from tests.evidence.support import photo, upload
from tests.helpers import auth


def _task(container, evidence_id: str) -> MediaTask:
    with container.uow() as uow:
        task = media.task_of(uow.session, evidence_id)
        uow.session.expunge(task)
        return task


def _previews(container) -> list[EvidencePreview]:
    with container.uow() as uow:
        return list(uow.session.execute(select(EvidencePreview)).scalars())


def test_upload_owes_a_task_and_tells_the_hooks_after_commit(client, container, people, case,
                                                             tmp_path):
    """The photo's task is written in the upload's transaction; the hooks (rq enqueue or the
    in-process worker) hear of it only after the commit, and the web thread renders nothing."""
    heard: list[list[str]] = []
    container.media_hooks.append(heard.append)
    threads_before = {t.name for t in threading.enumerate()}
    body = upload(client, people["officer"], case["id"],
                  photo(tmp_path).read_bytes()).get_json()
    assert heard == [[body["id"]]]
    task = _task(container, body["id"])
    assert (task.kind, task.status, task.attempts) == ("thumbnail", "pending", 0)
    assert _previews(container) == []  # nothing rendered on the request path
    # The only threads an upload may start are the metadata reader pool's (capture.pool).
    started = {t.name for t in threading.enumerate()} - threads_before
    assert {n for n in started if not n.startswith("parser-")} == set()
    assert body["preview"] is None


def test_refused_upload_owes_nothing(client, container, people, case):
    """A refused upload (415) commits nothing: no task, no hook call."""
    heard: list[list[str]] = []
    container.media_hooks.append(heard.append)
    r = upload(client, people["officer"], case["id"], b"not a photo at all", "x.jpg")
    assert r.status_code == 415
    with container.uow() as uow:
        assert uow.session.execute(select(MediaTask)).first() is None
    assert heard == []


def test_running_twice_makes_one_thumbnail(client, container, people, case, tmp_path):
    """Idempotent per item: a job delivered twice (rq after a lost ack) renders once."""
    body = upload(client, people["officer"], case["id"],
                  photo(tmp_path).read_bytes()).get_json()
    first = media.run_thumbnail(container.uow, body["id"])
    again = media.run_thumbnail(container.uow, body["id"])
    assert (first.status, again.status) == ("done", "busy")
    assert len(_previews(container)) == 1
    task = _task(container, body["id"])
    assert (task.status, task.attempts) == ("done", 1)
    r = client.get(f"/api/v1/evidence/{body['id']}/preview", headers=auth(people["officer"]),
                   buffered=True)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/jpeg"


@pytest.mark.skipif(not sample.FFMPEG, reason="ffmpeg is not installed")
def test_video_gets_a_first_frame_thumbnail(client, container, people, case, tmp_path):
    """A video's thumbnail is its first frame, rendered by ffmpeg in the sandboxed pool."""
    movie = sample.ffmpeg_movie(tmp_path, "mp4", duration=0.5, audio=False)
    body = upload(client, people["officer"], case["id"], movie.read_bytes(), "clip.mp4",
                  "video/mp4", method="video").get_json()
    assert _task(container, body["id"]).status == "pending"
    assert [o.status for o in media.run_due(container.uow)] == ["done"]
    shown = client.get(f"/api/v1/evidence/{body['id']}", headers=auth(people["officer"]))
    shown = shown.get_json()["preview"]
    assert (shown["width"], shown["height"]) == (512, 384)  # the 64x48 frame's aspect kept


def test_a_failing_render_is_recorded_retried_then_failed(client, container, people, case,
                                                          tmp_path, monkeypatch):
    """A failure goes back to pending with its reason and a retry time (rq retries it);
    after MAX_ATTEMPTS the task is failed and no further run renders."""
    body = upload(client, people["officer"], case["id"],
                  photo(tmp_path).read_bytes()).get_json()
    calls = []

    def broken(*args):
        calls.append(args)
        raise media.PreviewUnavailable("the sandbox hit its time limit")

    monkeypatch.setattr(media, "_render", broken)
    with pytest.raises(media.MediaRetry, match="time limit"):
        media.run_thumbnail(container.uow, body["id"])
    task = _task(container, body["id"])
    assert task.status == "pending" and "time limit" in task.last_error
    assert task.lease_until > utcnow()  # not picked again before its retry time
    assert media.run_due(container.uow) == []
    for _ in range(media.MAX_ATTEMPTS - 2):
        with pytest.raises(media.MediaRetry):
            media.run_thumbnail(container.uow, body["id"])
    last = media.run_thumbnail(container.uow, body["id"])
    assert last.status == "failed" and len(calls) == media.MAX_ATTEMPTS
    assert _task(container, body["id"]).status == "failed"
    assert media.run_thumbnail(container.uow, body["id"]).status == "busy"
    assert _previews(container) == []


def test_lost_jobs_are_found_again(client, container, people, case, tmp_path):
    """Redis losing a job, or a worker dying mid-render, loses no thumbnail: the sweep's
    due_for_enqueue returns tasks past their lease and leaves fresh ones to their job."""
    ids = [upload(client, people["officer"], case["id"],
                  photo(tmp_path, name=f"p{i}.jpg", make=f"cam{i}").read_bytes()).get_json()["id"]
           for i in range(3)]
    now = utcnow()
    with container.uow() as uow:
        assert media.due_for_enqueue(uow.session, now, 10) == []  # their jobs are queued
    with container.uow() as uow:  # one queued job lost; one claimed by a worker that died
        lost, died = (media.task_of(uow.session, i) for i in ids[:2])
        lost.lease_until = now - timedelta(seconds=1)
        died.status, died.attempts, died.lease_until = "running", 1, now - timedelta(seconds=1)
    with container.uow() as uow:
        again = media.due_for_enqueue(uow.session, now, 10)
    assert sorted(again) == sorted(ids[:2])
    with container.uow() as uow:
        assert media.due_for_enqueue(uow.session, now, 10) == []  # leased again, not twice
    assert all(media.run_thumbnail(container.uow, i).status == "done" for i in ids)
    assert len({p.evidence_id for p in _previews(container)}) == 3


def test_an_item_without_a_task_gets_one_when_its_job_runs(client, container, people, case,
                                                           tmp_path):
    """Items recorded before media tasks existed: a job run for one makes its task first."""
    body = upload(client, people["officer"], case["id"],
                  photo(tmp_path).read_bytes()).get_json()
    with container.uow() as uow:
        uow.session.delete(media.task_of(uow.session, body["id"]))
    assert media.run_thumbnail(container.uow, body["id"]).status == "done"
    assert _task(container, body["id"]).status == "done"
