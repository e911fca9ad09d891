"""Routing rules: the operator's ordered "when ... then ..." lines for where tickets go.

    billing + high             -> a person, in team billing
    bug with a stack trace     -> the reasoner
    text matches "refund"      -> team billing (the route as usual)

The first rule whose conditions all hold decides; a rule's conditions are "any of"
lists, so `category = ["billing", "account"]` matches either. `triage.route` applies
them; this module only says what a rule is.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Evidence", "RoutingRule"]

Evidence = Literal["stack_trace", "code"]


class RoutingRule(BaseModel):
    """One routing rule: conditions (all must hold) and what follows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="", max_length=80)
    """How the route's reason names the rule; "rule N" when empty."""
    category: tuple[str, ...] = ()
    """Any of these categories (empty: any category)."""
    urgency: tuple[Literal["high", "medium", "low"], ...] = ()
    """Any of these urgencies (empty: any urgency)."""
    text: str | None = None
    """A regular expression the ticket text must match (case-insensitive)."""
    evidence: Evidence | None = None
    """The ticket carries a stack trace, or code."""
    needs_human: bool | None = None
    """The verdict's needs_human must be this."""
    route: Literal["answer", "reasoner", "human"] | None = None
    """Where the ticket goes; unset: decided as usual."""
    team: str | None = None
    """The team whose leads get the ticket; unset: the workspace's leads."""

    @field_validator("text")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"is not a valid regular expression ({exc})") from None
        return value

    @model_validator(mode="after")
    def _does_something(self) -> RoutingRule:
        if self.route is None and self.team is None:
            raise ValueError("a rule needs a route, a team, or both")
        return self
