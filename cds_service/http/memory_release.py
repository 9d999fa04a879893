"""Give memory back after a big call, so a worker returns to its baseline.

A hook call that parsed a large body or read many FHIR bytes leaves freed blocks in glibc's
heaps and thread arenas (the fetch threads allocate in their own arenas): RSS stays near the
peak although Python freed everything. After such a call, once its response is sent, the
worker runs the cyclic GC (paused while hook requests run, gc_pause.py) and `malloc_trim(0)`,
which returns free pages of every arena to the OS. Small calls skip this: it costs a few
milliseconds of GC per call.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging

from flask import Flask, g, request

log = logging.getLogger(__name__)

RELEASE_AFTER_BYTES = 4 * 1024 * 1024  # request body + FHIR bytes read


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
MMAP_THRESHOLD_BYTES = 1024 * 1024
TRIM_THRESHOLD_BYTES = 8 * 1024 * 1024


def _glibc():
    """glibc, or None elsewhere (musl, macOS): then only the GC runs."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _glibc()


def configure_malloc() -> None:
    """Fix glibc's thresholds (setting them turns off their dynamic growth): blocks of 1 MiB
    and more (response buffers, big strings) get their own mapping, returned to the OS when
    freed. Left dynamic, after the first 32 MiB buffer glibc serves such blocks from the fetch
    threads' arenas, whose free tops malloc_trim cannot give back (measured: RSS stayed at
    the peak, benchmarks/hostile_memory.py)."""
    if _LIBC is not None:
        _LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        _LIBC.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)


def release_memory() -> None:
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def note_bytes(n: int) -> None:
    """Record bytes this request made the worker hold (FHIR reads); see install_memory_release."""
    g.cds_heavy_bytes = g.get("cds_heavy_bytes", 0) + n


def install_memory_release(app: Flask) -> None:
    configure_malloc()

    @app.after_request
    def _release_after_big_calls(response):
        heavy = (request.content_length or 0) + g.get("cds_heavy_bytes", 0)
        if heavy >= RELEASE_AFTER_BYTES:
            response.call_on_close(release_memory)  # after the body has been sent
        return response
