"""`python -m worker`: an rq worker on REDIS_URL with rq's scheduler (for retries) and the
sweep clock. It outlives Redis restarts: when the rq loop ends without being asked to stop,
it waits and starts a new one."""

from __future__ import annotations

import logging
import os
import signal
import time

from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from .cron import SweepClock, media_queue_name, sweep_queue_name
from .runtime import runtime

log = logging.getLogger("quancheng.worker")


class QuanchengWorker(SimpleWorker):
    """Runs jobs in this process, so the container and its connection pool serve every job
    (jobs are short database and network calls; forking per job would only add cost)."""

    stop_asked = False

    def request_stop(self, signum, frame):
        """Remember that the stop was asked for, then stop as rq does."""
        self.stop_asked = True
        super().request_stop(signum, frame)


def main() -> int:
    """Run until SIGTERM or SIGINT."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    rt = runtime()
    clock = SweepClock(rt.container.settings.redis_url, rt.config)
    clock.start()
    queues = [sweep_queue_name(rt.config), rt.config.queue, media_queue_name(rt.config)]
    log.info("worker on queues %s, sweep every %s s", ", ".join(queues), rt.config.sweep_interval)
    stop = {"asked": False}
    wait = 1.0
    while not stop["asked"]:
        worker = QuanchengWorker(queues, connection=rt.redis, serializer=JSONSerializer)
        started = time.monotonic()
        try:
            worker.work(with_scheduler=True)
        except RedisError as exc:
            log.warning("rq worker could not start: %s", type(exc).__name__)
        if worker.stop_asked:
            break
        if time.monotonic() - started > 60:
            wait = 1.0
        log.warning("rq worker loop ended (Redis away?); starting again in %.0f s", wait)

        def asked(signum, frame):
            stop["asked"] = True

        signal.signal(signal.SIGTERM, asked)
        signal.signal(signal.SIGINT, asked)
        time.sleep(wait)
        wait = min(wait * 2, 30.0)
    clock.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
