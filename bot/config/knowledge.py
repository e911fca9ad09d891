"""The knowledge base's settings: embeddings, retrieval floors, answer rules, refresh."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic import field_validator as check

from bot.config.base import Section, setting
from bot.config.validators import url_of

__all__ = ["KnowledgeSettings"]


class KnowledgeSettings(Section):
    """Where vectors come from, when a passage counts as found, how much goes in a prompt."""

    embeddings_url: str | None = setting("SUPPORTBOT_EMBEDDINGS_URL", None)
    """An OpenAI-compatible API (`.../v1`); unset: the embedded WordLlama model."""
    embeddings_model: str = setting("SUPPORTBOT_EMBEDDINGS_MODEL", "text-embedding-3-small")
    embeddings_api_key: SecretStr | None = setting("SUPPORTBOT_EMBEDDINGS_API_KEY", None)
    answer_requires_sources: bool | None = setting("SUPPORTBOT_ANSWER_REQUIRES_SOURCES", None)
    """Unset: true wherever a knowledge base exists (no sources found -> a person)."""
    min_score: float = setting("SUPPORTBOT_KB_MIN_SCORE", 0.5, ge=0, le=1)
    """The fused-score floor below which a passage does not count as found."""
    dense_floor: float = setting("SUPPORTBOT_KB_DENSE_FLOOR", 0.2, ge=-1, le=1)
    """The cosine similarity a passage needs to enter the dense ranking."""
    context_tokens: int = setting("SUPPORTBOT_KB_CONTEXT_TOKENS", 1800, ge=100, le=20000)
    """At most this many tokens of passages go into an answer request."""
    max_sources: int = setting("SUPPORTBOT_KB_MAX_SOURCES", 5, ge=1, le=20)
    refresh_daily: bool = setting("SUPPORTBOT_KB_REFRESH_DAILY", True)
    """Re-sync every docs source once a day."""

    _url = check("embeddings_url")(url_of("http:", "https:"))
