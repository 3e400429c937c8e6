"""The event loop of every asyncio process: uvloop, the loop uvicorn runs `serve` and `web` on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where it is installed (not on Windows), else None: asyncio's own."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - pyproject installs it wherever it builds
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the same loop as the web processes: code that works under one
    loop only (uvloop's transports are not asyncio.Transport subclasses) fails in tests too."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
