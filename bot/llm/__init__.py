"""The DeepSeek client, its typed errors, prices and the data it hands around."""

from bot.llm.client import Balance, BalanceInfo, DeepSeekClient
from bot.llm.errors import (
    AuthenticationFailed,
    InsufficientBalance,
    InvalidParameters,
    InvalidRequest,
    LLMConnectionError,
    LLMError,
    LLMNotConfigured,
    LLMTimeout,
    RateLimited,
    ServerError,
    ServerOverloaded,
    UnexpectedResponse,
    error_for_status,
)
from bot.llm.pricing import PriceTable
from bot.llm.types import AttemptRecord, CallContext, CallRecorder, ChatResult, Usage

__all__ = [
    "AttemptRecord",
    "AuthenticationFailed",
    "Balance",
    "BalanceInfo",
    "CallContext",
    "CallRecorder",
    "ChatResult",
    "DeepSeekClient",
    "InsufficientBalance",
    "InvalidParameters",
    "InvalidRequest",
    "LLMConnectionError",
    "LLMError",
    "LLMNotConfigured",
    "LLMTimeout",
    "PriceTable",
    "RateLimited",
    "ServerError",
    "ServerOverloaded",
    "UnexpectedResponse",
    "Usage",
    "error_for_status",
]
