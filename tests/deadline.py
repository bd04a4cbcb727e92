"""A guard that turns a hang into a test failure (SIGALRM; main thread, POSIX)."""
from __future__ import annotations

import signal
from contextlib import contextmanager


@contextmanager
def deadline(seconds: int, what: str = "the block"):
    """Fail with TimeoutError when the block runs longer than ``seconds`` instead of hanging the suite."""
    def expire(*_):
        raise TimeoutError(f"{what} still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
