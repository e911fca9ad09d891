"""Outbox keys: one constructor per kind of reply, and different causes never share one."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from bot.events import ActionInvoked, CommandInvoked, HomeOpened
from bot.pipeline import keys
from tests.bot.harness import mention

DAY = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
LATER = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def _desk_event(kind: type, event_id: str, platform: str = "slack") -> object:
    """A desk event of `kind` with only the fields the keys read."""
    event = mention("x", message_id=event_id)
    place = event.place.model_copy(update={"platform": platform})
    return kind.model_construct(event_id=event_id, place=place)


def _every_key() -> list[tuple[str, str]]:
    """(cause, key) for a grid of distinct causes of every kind."""
    made: list[tuple[str, str]] = []
    messages = [mention("x", message_id=m) for m in ("1700000000.000001", "1700000000.000002")]
    for event in messages:
        made.append((f"answer {event.message_id}", keys.answer_key(event)))
        made.append((f"seen {event.message_id}", keys.seen_key(event)))
        made.append((f"seen done {event.message_id}", keys.seen_done_key(event)))
        made.append((f"not here {event.message_id}", keys.not_here_key(event)))
    for ticket in (1, 2, 12):
        made += [
            (f"card {ticket}", keys.card_key(ticket)),
            (f"escalation {ticket}", keys.escalation_key(ticket)),
            (f"brief {ticket}", keys.brief_key(ticket)),
            (f"rating {ticket}", keys.rating_key(ticket)),
        ]
        for threshold in (1, 2):
            made.append((f"sla {ticket} {threshold}", keys.sla_key(ticket, threshold)))
        for at in (DAY, LATER):
            made.append((f"warn {ticket} {at}", keys.stale_warn_key(ticket, at)))
            made.append((f"close {ticket} {at}", keys.stale_close_key(ticket, at)))
    for platform, workspace, at in itertools.product(
        ("slack", "discord"), ("T1", "T2"), (DAY, LATER)
    ):
        made.append(
            (f"budget {platform} {workspace} {at}", keys.budget_key(platform, workspace, at))
        )
        made.append(
            (f"digest {platform} {workspace} {at}", keys.digest_key(platform, workspace, at))
        )
        made.append((f"rate {platform} {workspace} {at}", keys.rate_key(platform, workspace, at)))
    for platform, event_id in itertools.product(("slack", "discord"), ("Ev1", "Ev2")):
        command = _desk_event(CommandInvoked, event_id, platform)
        action = _desk_event(ActionInvoked, event_id, platform)
        home = _desk_event(HomeOpened, event_id, platform)
        made.append((f"command {platform} {event_id}", keys.command_reply_key(command)))  # type: ignore[arg-type]
        made.append((f"note {platform} {event_id}", keys.note_key(action)))  # type: ignore[arg-type]
        made.append((f"person {platform} {event_id}", keys.person_key(action)))  # type: ignore[arg-type]
        made.append((f"home {platform} {event_id}", keys.home_key(home)))  # type: ignore[arg-type]
        for index in (0, 1):
            made.append(
                (f"card update {platform} {event_id} {index}", keys.card_update_key(action, index))  # type: ignore[arg-type]
            )
    return made


def test_different_causes_never_share_a_key() -> None:
    made = _every_key()
    by_key: dict[str, list[str]] = {}
    for cause, key in made:
        by_key.setdefault(key, []).append(cause)
    collisions = {key: causes for key, causes in by_key.items() if len(causes) > 1}
    assert not collisions
    assert len(made) > 70


def test_the_same_cause_always_makes_the_same_key() -> None:
    assert _every_key() == _every_key()


def test_every_constructor_is_covered() -> None:
    covered = {
        "answer_key", "brief_key", "budget_key", "card_key", "card_update_key",
        "command_reply_key", "digest_key", "escalation_key", "event_reply_key", "home_key",
        "not_here_key", "note_key", "person_key", "rate_key", "rating_key", "seen_done_key",
        "seen_key", "sla_key", "stale_close_key", "stale_warn_key",
    }  # fmt: skip
    assert set(keys.__all__) == covered
