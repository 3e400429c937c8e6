"""Named errors of the service.

SmsTipsError
├── ConfigError          a setting is missing or malformed (start-up stops, naming it)
├── NotFound             no such record, or one outside the viewer's scope (answered 404)
└── TransportError       a message could not be handed to the SMS provider
    ├── RetryableSend    try again later (rate limits, provider queue full, 5xx, timeouts)
    └── PermanentSend    never retry (unsubscribed recipient, invalid or landline number)
"""

from __future__ import annotations


class SmsTipsError(Exception):
    """Base of every error this service raises on purpose."""


class ConfigError(SmsTipsError):
    """A setting is missing or malformed; `variable` names the environment variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem}")
        self.variable = variable
        self.problem = problem


class NotFound(SmsTipsError):
    """A record that does not exist, or that the viewer's scope (core/scope.py) does not see:
    the two are answered alike, a 404, so an id guessed across partners tells nothing."""


class TransportError(SmsTipsError):
    """The SMS provider did not accept a message; `code` is the provider's error code."""

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class RetryableSend(TransportError):
    """A temporary failure: the message may be sent again after `retry_after` seconds."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class PermanentSend(TransportError):
    """A failure that sending again cannot fix."""
