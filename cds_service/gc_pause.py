"""Pause CPython's cyclic garbage collector while hook requests are in flight.

A hook request with 20,000 Observations parses into about a million dicts and lists. The
cyclic GC scans such freshly allocated containers again and again while they are built
(young-generation passes, plus a full pass each time the tracked population grows by a
quarter), which doubled the time of json.loads and of the mapping in the benchmark (README,
section Performance). The request's data is an acyclic tree freed by reference counting when
the request ends, so nothing is lost by not scanning it. The pause is counted: overlapping
requests on gthread workers keep the collector paused until the last one ends, and it is
resumed only if it was running when the first one began.
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_in_flight = 0
_paused_by_us = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _in_flight, _paused_by_us
    with _lock:
        _in_flight += 1
        if _in_flight == 1 and gc.isenabled():
            gc.disable()
            _paused_by_us = True
    try:
        yield
    finally:
        with _lock:
            _in_flight -= 1
            if _in_flight == 0 and _paused_by_us:
                _paused_by_us = False
                gc.enable()
