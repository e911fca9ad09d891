"""The operator's taxonomy: the categories tickets fall into and what each urgency means.

Configuration, not code: a game studio's Discord sorts tickets into "crash",
"matchmaking" and "purchases", an online shop's Slack into "orders" and "returns".
The defaults are the five categories supportbot always knew. Urgency keeps its three
levels (high, medium, low), because SLAs, reminders and digests are built on them;
what each level means, how it is labelled and which words signal it are the
operator's.

Everything here is frozen and ordered, so the prompts generated from it are
byte-identical for a given configuration and the prompt cache keeps hitting.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DEFAULT_CATEGORIES",
    "DEFAULT_TAXONOMY",
    "DEFAULT_URGENCIES",
    "URGENCY_NAMES",
    "CategoryDef",
    "Taxonomy",
    "UrgencyDef",
    "UrgencyName",
    "check_name",
    "normal_name",
]

UrgencyName = Literal["high", "medium", "low"]
URGENCY_NAMES: tuple[UrgencyName, ...] = ("high", "medium", "low")
"""Most urgent first."""
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
_SEPARATORS = re.compile(r"[\s\-]+")


def check_name(value: str) -> str:
    """A validator: a category or team name people can type and a column can hold."""
    if not re.match(NAME_PATTERN, value):
        raise ValueError(
            "must be lower case letters, digits and _, starting with a letter, at most 32"
        )
    return value


def normal_name(value: str) -> str:
    """How a category or urgency name is compared: lower case, spaces and hyphens as `_`."""
    return _SEPARATORS.sub("_", value.strip().lower())


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CategoryDef(_Frozen):
    """One category of the taxonomy."""

    name: str
    """Stored on tickets and in the verdict: lower case, digits and `_`, at most 32."""
    description: str = Field(min_length=1, max_length=400)
    """What belongs here, in a line: the triage prompt shows it to the model."""
    keywords: tuple[str, ...] = ()
    """Words and phrases the offline rules look for (case-insensitive, whole words)."""
    examples: tuple[str, ...] = ()
    """Short example tickets: in the prompt, and for the offline rules' word overlap."""
    needs_human: bool = False
    """Every ticket of this category goes to a person, whatever the model says."""
    formerly: tuple[str, ...] = ()
    """Old names of this category: stored tickets with them still read as this one."""

    _name = field_validator("name")(lambda value: check_name(value))

    @field_validator("keywords", "examples", "formerly")
    @classmethod
    def _no_blanks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not item.strip() for item in value):
            raise ValueError("must not contain blank entries")
        return tuple(item.strip() for item in value)


class UrgencyDef(_Frozen):
    """What one urgency level means for this desk."""

    name: UrgencyName
    definition: str = Field(min_length=1, max_length=400)
    label: str | None = Field(default=None, max_length=40)
    """How people see the level on cards ("P1 - critical"); the name when unset."""
    cues: tuple[str, ...] = ()
    """Words and phrases that signal this level to the offline rules."""

    @property
    def shown(self) -> str:
        """The label people see."""
        return self.label or self.name


# The defaults are today's prompt text, so a desk without configuration behaves as before.
DEFAULT_CATEGORIES: tuple[CategoryDef, ...] = (
    CategoryDef(
        name="billing", description="invoices, charges, refunds, payment methods, plans and prices"
    ),
    CategoryDef(
        name="bug",
        description="something in the product is broken, fails, errors or behaves wrongly",
    ),
    CategoryDef(
        name="feature_request",
        description="the user asks for something the product does not do yet",
    ),
    CategoryDef(
        name="account",
        description="login, password, two-factor, SSO, email change, access, account deletion",
    ),
    CategoryDef(
        name="other",
        description="anything else, including greetings, spam and unclear messages",
    ),
)
DEFAULT_URGENCIES: tuple[UrgencyDef, ...] = (
    UrgencyDef(
        name="high",
        definition=(
            "outage, production down, many users affected, data loss, security or privacy "
            "incident, money taken wrongly, or legal threats"
        ),
    ),
    UrgencyDef(
        name="medium",
        definition="one user blocked or a normal problem that needs a reply today",
    ),
    UrgencyDef(name="low", definition="questions, suggestions and anything that can wait"),
)


class Taxonomy(_Frozen):
    """The categories (in the order the operator lists them) and the three urgencies."""

    categories: tuple[CategoryDef, ...] = DEFAULT_CATEGORIES
    urgencies: tuple[UrgencyDef, ...] = DEFAULT_URGENCIES
    fallback: str | None = None
    """The category for tickets nothing else fits: "other" when there is one, else the
    last category listed."""

    @field_validator("urgencies", mode="before")
    @classmethod
    def _fill_urgencies(cls, value: object) -> object:
        """Levels not configured keep their default definition; order is always high first."""
        if not isinstance(value, list | tuple):
            return value
        given = {}
        for item in value:
            name = item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
            if name in given:
                raise ValueError(f"urgency {name!r} is defined twice")
            given[name] = item
        unknown = [name for name in given if name not in URGENCY_NAMES]
        if unknown:
            raise ValueError(
                f"urgency {unknown[0]!r} is not a level; the levels are high, medium and low"
            )
        defaults = {u.name: u for u in DEFAULT_URGENCIES}
        return tuple(given.get(name, defaults[name]) for name in URGENCY_NAMES)

    @model_validator(mode="after")
    def _names_unique(self) -> Taxonomy:
        if not self.categories:
            raise ValueError("categories: list at least one category")
        seen: dict[str, str] = {}
        for category in self.categories:
            for name in (category.name, *(normal_name(old) for old in category.formerly)):
                if name in seen:
                    raise ValueError(
                        f"category name {name!r} is used twice ({seen[name]} and {category.name})"
                    )
                seen[name] = category.name
        if self.fallback is not None and self.fallback not in self.names:
            raise ValueError(f"fallback {self.fallback!r} is not one of the categories")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        """The category names, in order."""
        return tuple(category.name for category in self.categories)

    @property
    def fallback_category(self) -> str:
        """Where tickets that fit nowhere go."""
        if self.fallback is not None:
            return self.fallback
        return "other" if "other" in self.names else self.names[-1]

    def category(self, name: str | None) -> CategoryDef | None:
        """The category called `name` now or formerly (any case, `-` or space for `_`)."""
        if not name:
            return None
        wanted = normal_name(name)
        for category in self.categories:
            if wanted == category.name or wanted in (normal_name(o) for o in category.formerly):
                return category
        return None

    def canonical(self, name: str | None) -> str | None:
        """A stored or suggested category as today's name; None when it is not one."""
        found = self.category(name)
        return found.name if found is not None else None

    def shown(self, name: str | None) -> str | None:
        """A stored category as people should read it: today's name when it was renamed,
        as stored when it is no longer in the taxonomy (old tickets stay readable)."""
        return self.canonical(name) or name

    def urgency(self, name: str | None) -> UrgencyDef | None:
        """The level called `name` (any case), or None."""
        wanted = normal_name(name or "")
        return next((u for u in self.urgencies if u.name == wanted), None)


DEFAULT_TAXONOMY = Taxonomy()
