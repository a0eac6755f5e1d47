"""Thumbnails as rq jobs on a real `python -m worker` and real Redis (issue 13 item 2): the web
side only enqueues after the commit; the worker renders; a job lost with Redis is enqueued
again by the sweep from the media_tasks rows."""

from __future__ import annotations

import dataclasses

import redis
from rq import Queue
from rq.serializers import JSONSerializer
from sqlalchemy import select

from core.evidence.models import EvidencePreview, MediaTask
from tests.evidence.support import photo, upload
from tests.helpers import open_case
from tests.worker.support import REDIS_URL, start_worker, stop_group, wait_for, worker_env
from worker.config import WorkerConfig
from worker.cron import media_enqueuer


def _statuses(container) -> dict[str, str]:
    with container.uow() as uow:
        return dict(uow.session.execute(select(MediaTask.evidence_id, MediaTask.status)).all())


def _previewed(container) -> set[str]:
    with container.uow() as uow:
        return set(uow.session.execute(select(EvidencePreview.evidence_id)).scalars())


def test_worker_makes_thumbnails_enqueued_by_the_web(client, container, people, settings,
                                                    queue_name, tmp_path):
    """Uploads enqueue one media job each after their commit; the worker process renders
    them (the web process renders none); a job that Redis lost is found by the sweep."""
    container.media_hooks.append(media_enqueuer(REDIS_URL, WorkerConfig(queue=queue_name)))
    case = open_case(client, people["officer"])
    ids = [upload(client, people["officer"], case["id"],
                  photo(tmp_path, name=f"p{i}.jpg", make=f"cam{i}").read_bytes()).get_json()["id"]
           for i in range(3)]
    queue = Queue(f"{queue_name}-media", connection=redis.Redis.from_url(REDIS_URL),
                  serializer=JSONSerializer)
    assert queue.count == 3 and _previewed(container) == set()
    queue.empty()  # Redis loses the queued jobs: only the rows remember them
    with container.uow() as uow:
        for task in uow.session.execute(select(MediaTask)).scalars():
            task.lease_until = task.created_at  # their jobs' wait is over
    log = tmp_path / "worker.log"
    proc = start_worker(worker_env(settings, WORKER_QUEUE=queue_name), log)
    try:
        wait_for(lambda: _previewed(container) == set(ids), 60, interval=0.3,
                 what=f"the lost thumbnails\n{log.read_text(errors='replace')[-3000:]}")
        # With the worker up, a new upload's own job makes its thumbnail (its task's lease
        # is minutes away, so the sweep does not).
        ids.append(upload(client, people["officer"], case["id"],
                          photo(tmp_path, name="late.jpg", make="late").read_bytes())
                   .get_json()["id"])
        wait_for(lambda: _previewed(container) == set(ids), 60, interval=0.3,
                 what=f"the new thumbnail\n{log.read_text(errors='replace')[-3000:]}")
    finally:
        assert stop_group(proc) == 0
    assert _statuses(container) == dict.fromkeys(ids, "done")


def test_bot_polling_enqueues_the_media_jobs_a_web_process_does(client, container, people,
                                                                settings, queue_name, tmp_path,
                                                                monkeypatch):
    """`python -m bot` (polling) queues a photo's thumbnail job after the commit exactly as a
    web process does — the same job function, queue, retries and timeout — so previews do not
    wait for the sweep when the bot polls (issue 13 item 2; core.queues)."""
    from api import create_app
    from bot.__main__ import polling_container
    from core.evidence.intake import intake
    from core.people.models import Officer
    from tests.bot.support import TOKEN

    monkeypatch.setenv("WORKER_QUEUE", queue_name)
    with_redis = dataclasses.replace(settings, redis_url=REDIS_URL, telegram_token=TOKEN)
    bot_container = polling_container(with_redis)
    web = create_app({"SETTINGS": with_redis, "TESTING": True})
    try:
        case = open_case(client, people["officer"])
        with bot_container.uow() as uow:  # what the bot's file handler calls (bot.evidence)
            officer = uow.session.get(Officer, people["officer"]["id"])
            by_bot = intake(uow, officer, case["id"],
                            path=photo(tmp_path, name="bot.jpg", make="bot"),
                            filename="bot.jpg", declared_type="image/jpeg",
                            proves="现场违法建设状况", method="telegram_document")["id"]
        by_web = upload(web.test_client(), people["officer"], case["id"],
                        photo(tmp_path, name="web.jpg", make="web").read_bytes()
                        ).get_json()["id"]
        queue = Queue(f"{queue_name}-media", connection=redis.Redis.from_url(REDIS_URL),
                      serializer=JSONSerializer)
        every = queue.get_jobs()
        jobs = [j for j in every if j.func_name == "worker.jobs.media"]
        assert [list(j.args) for j in jobs] == [[by_bot], [by_web]]
        # Each commit also queued the case's sheets to pre-render (core.dossier.prerender).
        sheets = [j for j in every if j.func_name == "worker.jobs.sheets"]
        assert [list(j.args) for j in sheets] == [[case["id"]], [case["id"]]]
        assert len(every) == len(jobs) + len(sheets)
        assert {(j.func_name, j.timeout, j.retries_left, tuple(j.retry_intervals))
                for j in jobs} == {("worker.jobs.media", 300, 3, (10, 60, 300))}
        # The 送达回证 jobs (a signature completing a service, in the bot too) go the same way.
        web_container = web.extensions["quancheng"]
        assert len(bot_container.receipt_hooks) == len(web_container.receipt_hooks) == 1
        assert len(bot_container.sheet_hooks) == len(web_container.sheet_hooks) == 1
        assert len(bot_container.outbox_hooks) == len(web_container.outbox_hooks) == 1
    finally:
        bot_container.engine.dispose()
        web.extensions["quancheng"].engine.dispose()
