"""Typed errors of the DeepSeek client.

Each error says whether another attempt can help (`retryable`) and carries a short
`kind` that the cost ledger stores as the attempt's status ("http_429", "timeout").
Messages hold DeepSeek's own words and never the API key or the request body, so
they are safe to log and to show to an operator.
"""

from __future__ import annotations

from bot import SupportbotError
from bot.llm.types import Usage

__all__ = [
    "AuthenticationFailed",
    "InsufficientBalance",
    "InvalidParameters",
    "InvalidRequest",
    "LLMConnectionError",
    "LLMError",
    "LLMNotConfigured",
    "LLMStreamCut",
    "LLMTimeout",
    "RateLimited",
    "ServerError",
    "ServerOverloaded",
    "UnexpectedResponse",
    "error_for_status",
]


class LLMError(SupportbotError):
    """Base class of every error the DeepSeek client raises.

    Attributes:
        status: the HTTP status DeepSeek answered, or None when there was no answer.
        retryable: True when the same request may succeed if sent again later.
        kind: a short status for the ledger and logs, e.g. "http_402" or "timeout".
        retry_after: seconds the server asked us to wait (Retry-After), if it did.
        request_id: DeepSeek's `x-request-id` of the failed answer, when there was one.
    """

    status: int | None = None
    retryable: bool = False
    kind: str = "llm_error"
    request_id: str | None = None

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.retry_after = retry_after
        if self.status is not None and type(self).kind == LLMError.kind:
            self.kind = f"http_{self.status}"


class InvalidRequest(LLMError):
    """400: the request body is malformed, the model does not exist, or it is too long."""

    status = 400


class AuthenticationFailed(LLMError):
    """401: the API key is wrong; the operator has to fix DEEPSEEK_API_KEY."""

    status = 401


class InsufficientBalance(LLMError):
    """402: the DeepSeek account has run out of balance; leads must top it up."""

    status = 402


class InvalidParameters(LLMError):
    """422: a parameter value is not accepted."""

    status = 422


class RateLimited(LLMError):
    """429: requests come too quickly (or too many run at once)."""

    status = 429
    retryable = True


class ServerError(LLMError):
    """500: DeepSeek's server had a problem."""

    status = 500
    retryable = True


class ServerOverloaded(LLMError):
    """503: DeepSeek is overloaded by traffic."""

    status = 503
    retryable = True


class LLMTimeout(LLMError):
    """No complete answer arrived within the attempt's time budget."""

    retryable = True
    kind = "timeout"


class LLMConnectionError(LLMError):
    """DeepSeek could not be reached (DNS, refused connection, reset, TLS)."""

    retryable = True
    kind = "connection_error"


class LLMNotConfigured(LLMError):
    """No API key is set; raised before any request is sent."""

    kind = "not_configured"


class LLMStreamCut(LLMError):
    """A streamed answer broke off after part of it had been passed on; not retried,
    since the reader has already shown that part.

    The partial text is kept in attributes only, never in the message, so the error is
    still safe to log and to store.

    Attributes:
        partial_text: the content passed on before the cut.
        partial_reasoning: the reasoning content received before the cut.
        cause_kind: the `kind` of what cut the stream ("timeout", "connection_error",
            "bad_response", "receiver_failed", "incomplete").
        usage: the usage DeepSeek reported before the cut (zero when it did not).
    """

    kind = "stream_cut"

    def __init__(
        self,
        message: str,
        *,
        partial_text: str,
        partial_reasoning: str | None = None,
        cause_kind: str,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message)
        self.partial_text = partial_text
        self.partial_reasoning = partial_reasoning
        self.cause_kind = cause_kind
        self.usage = usage or Usage()


class UnexpectedResponse(LLMError):
    """A status this client does not know, or a 200 whose body is not a completion."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status, retry_after=retry_after)
        # A 200 with a broken body is not an HTTP error: give it its own status.
        if status == 200:
            self.kind = "bad_response"


_BY_STATUS: dict[int, tuple[type[LLMError], str]] = {
    400: (InvalidRequest, "invalid request"),
    401: (AuthenticationFailed, "authentication failed"),
    402: (InsufficientBalance, "insufficient balance"),
    422: (InvalidParameters, "invalid parameters"),
    429: (RateLimited, "rate limit reached"),
    500: (ServerError, "server error"),
    503: (ServerOverloaded, "server overloaded"),
}


def error_for_status(
    status: int, message: str | None, retry_after: float | None = None
) -> LLMError:
    """The typed error for an HTTP error answer.

    Args:
        status: the HTTP status code DeepSeek answered.
        message: DeepSeek's `error.message`, already free of secrets, or None.
        retry_after: seconds from a Retry-After header, if present.

    Returns:
        An instance of the matching `LLMError` subclass (`UnexpectedResponse` for
        statuses DeepSeek does not document).
    """
    cls, meaning = _BY_STATUS.get(status, (UnexpectedResponse, "unexpected status"))
    text = f"DeepSeek answered HTTP {status} ({meaning})"
    if message:
        text += f": {message}"
    return cls(text, status=status, retry_after=retry_after)
