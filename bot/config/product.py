"""The product profile: what the bot supports, how it speaks, and the rules it keeps.

It goes into the stable prefix of the triage and answer prompts, so it is fixed per
configuration: the same profile gives the same bytes and the prompt cache hits.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEFAULT_PRODUCT", "Product"]


class Product(BaseModel):
    """The product the desk supports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="", max_length=80)
    """The product's name ("Acme Cloud"); empty: the prompts say "the product"."""
    description: str = Field(
        default="a software-as-a-service product", min_length=1, max_length=600
    )
    """A short description: what it is and who uses it."""
    tone: str = Field(default="concise and friendly", min_length=1, max_length=200)
    """How answers should sound ("warm and playful", "formal")."""
    languages: tuple[str, ...] = ()
    """Languages the desk answers in; empty: the language the user wrote in."""
    rules: tuple[str, ...] = ()
    """Extra rules the bot must follow in every answer ("Never promise release dates")."""

    @field_validator("languages", "rules")
    @classmethod
    def _no_blanks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("must not contain blank entries")
        return tuple(" ".join(item.split()) for item in value)


DEFAULT_PRODUCT = Product()
