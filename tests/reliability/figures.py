"""Figures of a reliability run: printed, and appended to .reliability/<proof>.jsonl."""

from __future__ import annotations

import json
import os
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIGURES_DIR = Path(__file__).resolve().parents[2] / ".reliability"


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of `seconds`, in milliseconds."""
    if len(seconds) < 2:
        only = seconds[0] * 1000 if seconds else 0.0
        return {"p50_ms": only, "p95_ms": only, "p99_ms": only}
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 1),
        "p95_ms": round(cuts[94] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
    }


def record(proof: str, **figures: Any) -> dict[str, Any]:
    """Print the figures of one run and append them to .reliability/<proof>.jsonl."""
    line = {
        "proof": proof,
        "scale": os.environ.get("SMS_TIPS_RELIABILITY", "short"),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **figures,
    }
    FIGURES_DIR.mkdir(exist_ok=True)
    with (FIGURES_DIR / f"{proof}.jsonl").open("a", encoding="utf-8") as file:
        file.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"\n[reliability] {json.dumps(line, ensure_ascii=False)}")
    return line
