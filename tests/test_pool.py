"""How many warm sandboxes a batch starts, and when (issue 19: latency).

A sandbox's start is CPU-bound, so the pool starts one, and the next only when that one is
ready; and it never starts more than its submissions can use. These tests use stand-in
sandboxes: no bubblewrap, no timing.
"""

from __future__ import annotations

import threading
import time

import pytest

from grader.engine import pool as P
from grader.engine.sandbox import Limits


@pytest.mark.parametrize(("workers", "submissions", "expected"), [
    (1, 1, 1), (2, 1, 1), (2, 3, 1), (2, 4, 1), (2, 5, 2), (2, 24, 2), (8, 24, 6), (1, 100, 1), (4, 0, 1),
])
def test_one_sandbox_per_four_submissions_at_most_one_per_worker(workers, submissions, expected):
    assert P.pool_size(workers, submissions) == expected


class _StandIn:
    """A WarmSlot that is ready when the test says so."""

    made: list[_StandIn] = []

    def __init__(self, *args, **kwargs):
        self.ready = threading.Event()
        self.alive = False
        self.info: dict = {}
        _StandIn.made.append(self)

    def wait_ready(self) -> None:
        if not self.ready.wait(60):
            raise P.SlotFailed("the test never made it ready")
        self.alive = True

    def close(self) -> None:
        self.alive = False


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_sandboxes_start_one_after_another(tmp_path, monkeypatch):
    monkeypatch.setattr(P, "WarmSlot", _StandIn)
    monkeypatch.setattr(_StandIn, "made", [])
    pool = P.WarmPool(tmp_path, [], Limits(), 3, tmp_path)
    try:
        pool.prestart()
        _until(lambda: len(_StandIn.made) >= 1, "the first sandbox never started")
        time.sleep(0.3)  # a pool that starts them all at once has done so by now
        assert len(_StandIn.made) == 1, "a second sandbox started before the first was ready"
        _StandIn.made[0].ready.set()
        assert pool.acquire() is _StandIn.made[0]  # the first grades while the second starts
        _until(lambda: len(_StandIn.made) >= 2, "the second sandbox never started")
        time.sleep(0.3)
        assert len(_StandIn.made) == 2
        _StandIn.made[1].ready.set()
        _until(lambda: len(_StandIn.made) >= 3, "the third sandbox never started")
        _StandIn.made[2].ready.set()
        time.sleep(0.3)
        assert len(_StandIn.made) == 3, "more sandboxes than the pool's size"
    finally:
        pool.close()


def test_a_sandbox_that_fails_to_start_starts_no_other(tmp_path, monkeypatch):
    """Then acquire() reports the failure at once (a broken environment is not tried K times)."""

    class Broken(_StandIn):
        def wait_ready(self) -> None:
            raise P.SlotFailed("the warm sandbox did not start (a test)")

    monkeypatch.setattr(P, "WarmSlot", Broken)
    monkeypatch.setattr(_StandIn, "made", [])
    pool = P.WarmPool(tmp_path, [], Limits(), 2, tmp_path)
    try:
        pool.prestart()
        with pytest.raises(P.SlotFailed, match="did not start"):
            pool.acquire()
        time.sleep(0.3)
        assert len(_StandIn.made) == 1
    finally:
        pool.close()
