"""What every JSON API module shares: reading a JSON body, and an error as JSON."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


class BadRequest(Exception):
    """A request body the API cannot read; the message goes back to the caller."""


def error(status: int, message: str) -> JSONResponse:
    """{"error": message} with `status`."""
    return JSONResponse({"error": message}, status_code=status)


async def read_json(request: Request) -> Any:
    """The request's JSON body ({} when empty); BadRequest when it is not JSON."""
    raw = await request.body()  # cut off at guards.MAX_API_BYTES as it streams in
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        raise BadRequest("the body is not valid JSON") from None
