"""The outbox's retry delay: exponential, with full jitter, capped, never sooner than asked."""

from __future__ import annotations

import random

from bot.dispatcher import Dispatcher
from storage import Store
from workflows.clock import FakeClock


def test_backoff_doubles_with_jitter_is_capped_and_honours_retry_after(database_url: str, clock: FakeClock) -> None:
    random.seed(1)
    dispatcher = Dispatcher(Store(database_url), {}, clock, holder="t", base_backoff=1.0, max_backoff=60.0)
    for attempts, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (30, 60.0)]:
        delays = [dispatcher.backoff(attempts, None) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempts, min(delays), max(delays))
        assert len({round(d, 6) for d in delays}) > 150  # jittered: replicas do not retry in lockstep
    assert all(dispatcher.backoff(1, 30.0) == 30.0 for _ in range(50))  # Retry-After is a floor
    assert all(dispatcher.backoff(7, 5.0) >= 30.0 for _ in range(50))  # ... not a ceiling
