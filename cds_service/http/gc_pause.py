"""Pause CPython's cyclic garbage collector while hook requests are in flight.

A hook request with 20,000 Observations parses into about a million dicts and lists. The
cyclic GC scans such freshly allocated containers again and again while they are built
(young-generation passes, plus a full pass each time the tracked population grows by a
quarter), which doubled the time of json.loads and of the mapping in the benchmark (README,
section Performance). The request's data is an acyclic tree freed by reference counting when
the request ends, so nothing is lost by not scanning it. The pause is counted: overlapping
requests on gthread workers keep the collector paused until the last one ends, and it is
resumed only if it was running when the first one began. Under load that never drains
(always one request in flight) the collector would stay off for good, so every
COLLECT_EVERY requests that end while it is paused trigger one explicit collection: cycles
made elsewhere (exceptions with tracebacks, library caches) are still reclaimed.
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_in_flight = 0
_paused_by_us = False
_ended_while_paused = 0
COLLECT_EVERY = 200  # requests; one full collection amortised over them


@contextmanager
def gc_paused() -> Iterator[None]:
    global _in_flight, _paused_by_us, _ended_while_paused
    with _lock:
        _in_flight += 1
        if _in_flight == 1 and gc.isenabled():
            gc.disable()
            _paused_by_us = True
    try:
        yield
    finally:
        collect = False
        with _lock:
            _in_flight -= 1
            if _in_flight == 0 and _paused_by_us:
                _paused_by_us = False
                _ended_while_paused = 0
                gc.enable()
            elif _paused_by_us:
                _ended_while_paused += 1
                if _ended_while_paused >= COLLECT_EVERY:
                    _ended_while_paused = 0
                    collect = True
        if collect:
            gc.collect()
