"""The terminal channel: sources under an answer, and `/save N` as two prompts."""

from __future__ import annotations

import io
from collections.abc import Iterator

from adapters.base import AnswerDraft
from adapters.console import HELP, ConsoleChannel, ConsoleOutlet
from bot.events import Actor, AnswerApproved, Event, Place, Platform, PostReply, SourceLink

DRAFT = AnswerDraft(ticket_id=1, question="Charged twice?", answer="We refund the second one.")
PLACE = Place(platform=Platform.CONSOLE, workspace_id="local", channel_id="terminal")


class KeptIntake:
    """An intake that keeps every event it is handed."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def submit(self, event: Event) -> bool:
        self.events.append(event)
        return True


class DictDrafts:
    """Drafts by ticket id, for the users named as leads only."""

    def __init__(self, drafts: dict[int, AnswerDraft], leads: set[str]) -> None:
        self._drafts = drafts
        self._leads = leads
        self.asked: list[tuple[Actor, Place, int]] = []

    async def draft_for(self, actor: Actor, place: Place, ticket_id: int) -> AnswerDraft | None:
        self.asked.append((actor, place, ticket_id))
        return self._drafts.get(ticket_id) if actor.user_id in self._leads else None


async def _type(lines: list[str], drafts: DictDrafts | None) -> tuple[KeptIntake, list[str], str]:
    """Run the channel over `lines` (EOF after them): the intake, waited ids, output."""
    typed: Iterator[str] = iter(lines)
    intake, waited, out = KeptIntake(), [], io.StringIO()

    async def wait(event_id: str) -> None:
        waited.append(event_id)

    channel = ConsoleChannel(
        intake, wait, read_line=lambda: next(typed, ""), out=out, drafts=drafts
    )
    await channel.run()
    return intake, waited, out.getvalue()


async def test_save_answer_shows_the_draft_and_submits_the_edited_answer() -> None:
    drafts = DictDrafts({1: DRAFT}, leads={"you"})
    intake, waited, out = await _type(
        ["/save-answer 1\n", "\n", "  Refunds take 5 days.\n", "/quit\n"], drafts
    )
    (event,) = intake.events
    assert isinstance(event, AnswerApproved)
    assert (event.ticket_id, event.question, event.answer) == (
        1,
        "Charged twice?",  # Enter kept it
        "Refunds take 5 days.",
    )
    assert event.actor.user_id == "you"
    assert waited == [event.event_id]  # waited for, like every other event
    ((actor, place, ticket_id),) = drafts.asked
    assert (actor.user_id, place, ticket_id) == ("you", PLACE, 1)
    assert "Question: Charged twice?" in out
    assert "Answer: We refund the second one." in out
    assert "Question [Enter keeps it]:" in out
    assert "Answer [Enter keeps it]:" in out


async def test_save_is_the_short_name_and_the_ticket_may_have_a_hash() -> None:
    intake, _, _ = await _type(
        ["/save #1\n", "New question?\n", "\n"], DictDrafts({1: DRAFT}, {"you"})
    )
    (event,) = intake.events
    assert isinstance(event, AnswerApproved)
    assert (event.question, event.answer) == ("New question?", DRAFT.answer)


async def test_someone_who_may_not_save_is_told_so_and_nothing_is_submitted() -> None:
    intake, _, out = await _type(["/save 1\n"], DictDrafts({1: DRAFT}, leads={"someone-else"}))
    assert intake.events == []
    assert "Only support leads can save answers from resolved tickets" in out
    assert "[Enter keeps it]" not in out


async def test_without_drafts_saving_is_not_available() -> None:
    intake, _, out = await _type(["/save 1\n"], None)
    assert intake.events == []
    assert "Saving answers isn't available" in out


async def test_leaving_in_the_middle_of_the_prompts_saves_nothing() -> None:
    intake, _, out = await _type(["/save 1\n", "\n"], DictDrafts({1: DRAFT}, {"you"}))
    assert intake.events == []
    assert "Not saved" in out


async def test_sources_are_listed_under_the_answer_with_their_numbers() -> None:
    out = io.StringIO()
    sources = (
        SourceLink(number=1, title="Setup guide", location="guides/setup.md"),
        SourceLink(number=3, title="Refunds", location="faq.md", url="https://help.acme.test/r"),
    )
    await ConsoleOutlet(out).post_reply(
        PostReply(place=PLACE, text="See [1] and [3].", sources=sources)
    )
    assert out.getvalue().splitlines() == [
        "  bot: See [1] and [3].",
        "       [1] Setup guide — guides/setup.md",
        "       [3] Refunds — https://help.acme.test/r",
    ]


def test_help_names_the_save_command() -> None:
    assert "/save N" in HELP
    assert HELP.count("/save") == 1
