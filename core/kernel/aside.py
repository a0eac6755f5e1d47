"""One function run on a thread of its own while the caller goes on with other work."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Aside(threading.Thread, Generic[T]):
    """Runs ``fn`` on another thread, started at once; :meth:`value` waits for it and gives
    its result or raises its error in the caller's thread."""

    def __init__(self, fn: Callable[[], T], name: str):
        super().__init__(name=name, daemon=True)
        self._fn = fn
        self._result: T | None = None
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        """Call the function, keeping its result or its error."""
        try:
            self._result = self._fn()
        except BaseException as exc:  # handed to the caller by value()
            self._error = exc

    def value(self) -> T:
        """The result, once the thread has ended; its error raised here."""
        self.join()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]
