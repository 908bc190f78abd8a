"""Webhook delivery in the background of ``serve``: without it a serve-only deployment
would retry a failed webhook only when a later ``/route`` happened to assign something.

A daemon thread calls ``deliver_due`` every ``EVERY_S`` seconds (the calls block on HTTP,
so they stay off the event loop). Claims make it safe next to ``/route``'s own delivery
task and a worker's: no row is posted twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Final

import httpx
from sqlalchemy.exc import SQLAlchemyError

from solver.app.service._notify import deliver_due
from solver.app.service._store import Store

EVERY_S: Final = 5.0
_log = logging.getLogger("leadroute.webhooks")


class DeliveryLoop:
    def __init__(self, store: Store, *, client: httpx.Client | None = None,
                 every_s: float | None = None) -> None:
        self.store = store
        self.client = client
        self.every_s = EVERY_S if every_s is None else every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leadroute-webhooks",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                deliver_due(self.store, client=self.client)
            except SQLAlchemyError as exc:  # the store is down: the next turn tries again
                _log.warning("webhook delivery skipped: %s", str(exc).splitlines()[0])


def delivery_lifespan(store: Store, *, client: httpx.Client | None = None,
                      every_s: float | None = None
                      ) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan running a ``DeliveryLoop`` while the app serves."""
    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        loop = DeliveryLoop(store, client=client, every_s=every_s)
        loop.start()
        try:
            yield
        finally:
            loop.stop()

    return lifespan
