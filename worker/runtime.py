"""What the jobs of one worker process share, built once from the environment."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from core.bootstrap import Container, bootstrap
from core.kernel.settings import SettingsError
from notifications.base import Channel
from notifications.channels import build_channels
from notifications.config import NotifyConfig

from .config import WorkerConfig
from .cron import media_queue_name


@dataclass
class Runtime:
    """The container, channels and queue of this worker process."""

    container: Container
    notify: NotifyConfig
    config: WorkerConfig
    channels: dict[str, Channel]
    redis: Redis
    queue: Queue
    media_queue: Queue | None = None  # thumbnails (worker.cron.media_queue_name)


_runtime: Runtime | None = None
_lock = threading.Lock()


def make_queue(redis: Redis, config: WorkerConfig) -> Queue:
    """The queue, always with the JSON serializer: jobs carry ids, never pickles."""
    return Queue(config.queue, connection=redis, serializer=JSONSerializer)


def runtime() -> Runtime:
    """This process's runtime, built on first use from the environment."""
    global _runtime
    with _lock:
        if _runtime is None:
            container = bootstrap()
            if not container.settings.redis_url:
                raise SettingsError("the rq worker needs REDIS_URL; on embedded defaults the web "
                                    "process runs the in-process worker instead")
            notify, config = NotifyConfig.from_env(), WorkerConfig.from_env()
            redis = Redis.from_url(container.settings.redis_url)
            _runtime = Runtime(container, notify, config, build_channels(container, notify),
                               redis, make_queue(redis, config),
                               Queue(media_queue_name(config), connection=redis,
                                     serializer=JSONSerializer))
        return _runtime


def _dispose_in_child() -> None:
    # A forked child (rq's scheduler, a forking worker's horse) must not reuse the parent's
    # database connections: it opens its own.
    if _runtime is not None:
        _runtime.container.engine.dispose(close=False)


os.register_at_fork(after_in_child=_dispose_in_child)
