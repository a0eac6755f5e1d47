"""Worker settings read from the environment: queue name, sweep cadence and batch size."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core.kernel.settings import SettingsError
from core.queues import DEFAULT_QUEUE, queue_base


@dataclass(frozen=True)
class WorkerConfig:
    """How the worker runs; the defaults suit production."""

    queue: str = DEFAULT_QUEUE
    sweep_interval: int = 60  # seconds between sweeps (ARCHITECTURE.md: every minute)
    sweep_limit: int = 500  # reminders or messages taken per batch; a sweep loops over batches
    sweep_budget: float = 45.0  # seconds one sweep may spend before leaving the rest to the next

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerConfig:
        """Read WORKER_QUEUE, SWEEP_INTERVAL_SECONDS and SWEEP_LIMIT."""
        env = os.environ if env is None else env
        try:
            config = cls(queue=queue_base(env),
                         sweep_interval=int(env.get("SWEEP_INTERVAL_SECONDS", "") or 60),
                         sweep_limit=int(env.get("SWEEP_LIMIT", "") or 500))
        except ValueError as exc:
            raise SettingsError(f"a numeric worker setting is not a number: {exc}") from exc
        if config.sweep_interval < 1 or config.sweep_limit < 1:
            raise SettingsError("SWEEP_INTERVAL_SECONDS and SWEEP_LIMIT must be at least 1")
        return config
