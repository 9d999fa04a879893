"""Small statistics helpers (nearest-rank percentiles, so p99 of 100 samples is the 99th value)."""
from __future__ import annotations

import math
from typing import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(values: Sequence[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50),
        "p99_ms": percentile(values, 99),
        "min_ms": min(values) if values else None,
        "max_ms": max(values) if values else None,
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None
