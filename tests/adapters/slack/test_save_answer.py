""" "Save as answer", pure parts: the form rendered, the click and the submission read back.

The payloads are recorded-style fixtures (tests/fixtures/slack); the form goes through
slack_sdk's own Block Kit validation (`to_dict()`).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.request.internals import extract_team_id

from adapters.base import AnswerDraft
from adapters.slack.forms import answer_form, form_errors, read_form
from adapters.slack.to_event import (
    SlackIds,
    from_block_actions,
    from_view_submission,
    save_answer_click,
)
from bot.events import AnswerApproved, Place, Platform

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "slack"
PLACE = Place(
    platform=Platform.SLACK,
    workspace_id="T_ACME",
    channel_id="C_LEADS",
    thread_id="1700005000.000100",
)
DRAFT = AnswerDraft(ticket_id=12, question="Charged twice?", answer="We refund the second one.")


def load_fixture(name: str) -> dict[str, Any]:
    """A recorded payload, fresh for each call (tests change them)."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def _ids() -> SlackIds:
    ids = SlackIds(bot_user_id="U_BOT", lead_group_id="S_LEADS", team_id="T_ACME")
    ids.lead_group_members = frozenset({"U_LEAD"})
    return ids


def _inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


# --- the form ------------------------------------------------------------------------


def test_the_form_is_prefilled_with_the_draft_and_remembers_where_it_came_from() -> None:
    view = answer_form(DRAFT, PLACE).to_dict()
    assert (view["type"], view["callback_id"]) == ("modal", "save_answer")
    assert view["title"]["text"] == "Save as answer"
    assert view["submit"]["text"] == "Save"
    assert json.loads(view["private_metadata"]) == {
        "ticket_id": 12,
        "channel_id": "C_LEADS",
        "thread_id": "1700005000.000100",
    }
    inputs = _inputs(view)
    assert list(inputs) == ["question", "answer"]
    assert inputs["question"]["initial_value"] == "Charged twice?"
    assert inputs["answer"]["initial_value"] == "We refund the second one."
    for element in inputs.values():
        assert element["type"] == "plain_text_input"
        assert element["multiline"] is True
        assert element["max_length"] == 3000


def test_a_long_draft_is_cut_to_what_an_input_holds_and_plain_text_stays_as_typed() -> None:
    draft = AnswerDraft(ticket_id=3, question="<!channel> & co?", answer="a" * 5000)
    inputs = _inputs(answer_form(draft, PLACE).to_dict())
    assert inputs["question"]["initial_value"] == "<!channel> & co?"  # plain text: no escaping
    answer = inputs["answer"]["initial_value"]
    assert len(answer) == 3000
    assert answer.endswith("…")


def test_an_empty_draft_leaves_the_inputs_empty() -> None:
    inputs = _inputs(answer_form(AnswerDraft(3, "", ""), PLACE).to_dict())
    assert all("initial_value" not in element for element in inputs.values())


def test_empty_inputs_are_named_in_the_errors_and_a_filled_form_has_none() -> None:
    body = load_fixture("view_submission_save_answer")
    assert form_errors(body["view"]) == {}
    body["view"]["state"]["values"]["answer"]["text"]["value"] = "   \n"
    body["view"]["state"]["values"]["question"]["text"]["value"] = None
    assert set(form_errors(body["view"])) == {"question", "answer"}
    assert form_errors("not a view") == {}


def test_what_the_form_writes_it_reads_back() -> None:
    view = answer_form(DRAFT, PLACE).to_dict()
    values = {b: {"text": {"value": e["initial_value"]}} for b, e in _inputs(view).items()}
    form = read_form({**view, "id": "V1", "hash": "h1", "state": {"values": values}})
    assert form is not None
    assert (form.ticket_id, form.channel_id, form.thread_id) == (12, "C_LEADS", PLACE.thread_id)
    assert (form.question, form.answer) == (DRAFT.question, DRAFT.answer)


# --- the click -----------------------------------------------------------------------


def test_the_save_answer_click_is_not_an_action_for_the_inbox() -> None:
    assert from_block_actions(load_fixture("block_actions_save_answer"), _ids()) == []


def test_the_click_names_the_lead_the_cards_thread_and_the_ticket() -> None:
    body = load_fixture("block_actions_save_answer")
    click = save_answer_click(body, _ids())
    assert click is not None
    assert click.ticket_id == 12
    assert click.trigger_id == "6082910466993.4744562912.9c1d"
    assert click.reply_handle == body["response_url"]
    assert click.place == PLACE
    assert (click.actor.user_id, click.actor.roles) == ("U_LEAD", ("S_LEADS",))
    # The same identity code as every other button: a Reopen on that card names the same.
    body["actions"][0]["action_id"] = "ticket:reopen"
    (reopen,) = from_block_actions(body, _ids())
    assert (reopen.actor, reopen.place) == (click.actor, click.place)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda b: b.pop("trigger_id"),
        lambda b: b["actions"][0].update(value="twelve"),
        lambda b: b["actions"][0].update(action_id="ticket:claim"),
        lambda b: b.pop("user"),
        lambda b: b.update(team={"id": "T_INITECH"}),
        lambda b: b.update(actions="no list"),
    ],
)
def test_a_click_that_cannot_be_read_is_none(spoil: Callable[[dict[str, Any]], object]) -> None:
    body = load_fixture("block_actions_save_answer")
    spoil(body)
    assert save_answer_click(body, _ids()) is None


# --- the submission ------------------------------------------------------------------


def test_a_submitted_form_is_an_answer_approved_with_the_edited_text() -> None:
    event = from_view_submission(load_fixture("view_submission_save_answer"), _ids())
    assert isinstance(event, AnswerApproved)
    assert event.event_id == "view:V06A1B2C3D4:1700005260.Xq2eLk9T"
    assert event.ticket_id == 12
    assert event.question == "I was charged twice this month, how do I get a refund?"
    assert (
        event.answer == "We refund the second charge within 5 business days; no need to ask twice."
    )
    assert event.place == PLACE
    assert (event.actor.user_id, event.actor.display_name) == ("U_LEAD", "lena")
    assert event.actor.roles == ("S_LEADS",)
    assert event.reply_handle is None


def _values(b: dict[str, Any]) -> dict[str, Any]:
    return b["view"]["state"]["values"]


def _meta(b: dict[str, Any], **changes: Any) -> None:
    meta = json.loads(b["view"]["private_metadata"])
    b["view"]["private_metadata"] = json.dumps({**meta, **changes})


MALFORMED: dict[str, Callable[[dict[str, Any]], object]] = {
    "no view": lambda b: b.pop("view"),
    "view not an object": lambda b: b.update(view="V1"),
    "another form": lambda b: b["view"].update(callback_id="feedback"),
    "no state": lambda b: b["view"].pop("state"),
    "no answer block": lambda b: _values(b).pop("answer"),
    "empty answer": lambda b: _values(b)["answer"]["text"].update(value="  "),
    "question not text": lambda b: _values(b)["question"]["text"].update(value=7),
    "no metadata": lambda b: b["view"].pop("private_metadata"),
    "metadata not JSON": lambda b: b["view"].update(private_metadata="{ticket"),
    "metadata a list": lambda b: b["view"].update(private_metadata="[12]"),
    "ticket a string": lambda b: _meta(b, ticket_id="12"),
    "ticket a bool": lambda b: _meta(b, ticket_id=True),
    "no channel": lambda b: _meta(b, channel_id=""),
    "thread a number": lambda b: _meta(b, thread_id=5),
    "no view id": lambda b: b["view"].pop("id"),
    "hash null": lambda b: b["view"].update(hash=None),
    "no user": lambda b: b.pop("user"),
    "user without id": lambda b: b["user"].pop("id"),
    "another team": lambda b: b["view"].update(app_installed_team_id="T_INITECH"),
}


@pytest.mark.parametrize("spoil", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_submission_that_cannot_be_read_is_none(
    spoil: Callable[[dict[str, Any]], object],
) -> None:
    body = load_fixture("view_submission_save_answer")
    spoil(body)
    assert from_view_submission(body, _ids()) is None


@pytest.mark.parametrize("name", ["block_actions_save_answer", "view_submission_save_answer"])
def test_the_workspace_is_the_team_bolt_authorizes(name: str) -> None:
    body, ids = load_fixture(name), SlackIds(bot_user_id="U_BOT")
    found = save_answer_click(body, ids) or from_view_submission(body, ids)
    assert found is not None
    assert found.place.workspace_id == extract_team_id(body)


def test_the_fixtures_are_left_as_they_were() -> None:
    for name in ("block_actions_save_answer", "view_submission_save_answer"):
        body = load_fixture(name)
        before = copy.deepcopy(body)
        save_answer_click(body, _ids())
        from_view_submission(body, _ids())
        form_errors(body.get("view"))
        assert body == before, name
