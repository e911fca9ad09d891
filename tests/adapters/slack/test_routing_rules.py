"""Teams and routing rules through the real Slack adapter and the fake Slack Web API.

Two teams with their own leads channels (billing -> C_BILL, bugs -> C_BUGS), rules that
send tickets to them, round-robin suggestions on the cards, a team lead claiming their
team's ticket, the team's SLA; cards whose selects offer the workspace's own
categories, and tickets stored under a category since renamed (or removed).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.config.playbook import Playbook, Playbooks, Team
from bot.config.routing import RoutingRule
from bot.config.taxonomy import CategoryDef, Taxonomy
from bot.store.db import Database
from bot.store.models import AuditEntry, Ticket
from tests.adapters.slack.harness import SlackStack, mention_envelope, slack_stack
from tests.bot.harness import ANSWER, triage_json
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.slack import FakeSlack, SlackCall
from tests.fakes.slack_interactive import block_actions_form, button_action, select_action

BILLING = Team(
    name="billing",
    slack_channel="C_BILL",
    lead_user_ids=("U_ANN", "U_BOB"),
    assign="round_robin",
    sla_high_minutes=5,
)
BUGS = Team(
    name="bugs", slack_channel="C_BUGS", lead_user_ids=("U_CY",), slack_usergroup_id="S_BUGS"
)
DESK = Playbook(
    teams=(BILLING, BUGS),
    routes=(
        RoutingRule(
            name="billing high", category=("billing",), urgency=("high",), route="human",
            team="billing",
        ),
        RoutingRule(
            name="bug with a trace", category=("bug",), evidence="stack_trace", route="human",
            team="bugs",
        ),
    ),
)  # fmt: skip
# A rule only T_OTHER has: "other" tickets go to a person there, not here (T_ACME).
OTHER = DESK.model_copy(
    update={"routes": (RoutingRule(category=("other",), route="human", team="billing"),)}
)
PLAYBOOKS = Playbooks(default=DESK, workspaces={"T_OTHER": OTHER})
TRACE = 'Export crashes:\nTraceback (most recent call last):\n  File "x.py", line 3\nKeyError'


def verdicts(body: dict[str, Any]) -> str:
    """Triage by what the ticket says; an answer for everything else."""
    if body.get("response_format", {}).get("type") != "json_object":
        return ANSWER
    text = body["messages"][-1]["content"]  # the ticket, not the prompt's examples
    if "charged" in text:
        return triage_json(category="billing", urgency="high", summary="Charged twice")
    if "Traceback" in text:
        return triage_json(category="bug", urgency="medium", summary="Export crashes")
    return triage_json(category="other", urgency="low", summary="Says hello")


async def _mention(stack: SlackStack, text: str, n: int) -> None:
    body = mention_envelope(text, ts=f"1700001000.00010{n}", event_id=f"Ev{n}")
    assert (await stack.post_json(body)).status_code == 200
    assert await stack.settle(f"Ev{n}") == "done"


async def _tickets(db: Database) -> list[Ticket]:
    async with db.sessions() as session:
        return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())


def _leads_cards(fake: FakeSlack) -> list[SlackCall]:
    """Notices with a card, posted at the top level of a channel (not in a thread)."""
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if not c.params.get("thread_ts") and any(b["type"] == "header" for b in c.blocks)
    ]


def _sla(ticket: Ticket) -> timedelta:
    assert ticket.sla_due_at is not None
    assert ticket.escalated_at is not None
    return ticket.sla_due_at - ticket.escalated_at


def _fields(call: SlackCall) -> list[str]:
    return [f["text"] for b in call.blocks if b["type"] == "section" for f in b.get("fields", ())]


def _options(call: SlackCall, action_id: str) -> list[tuple[str, str]]:
    actions = next(b for b in call.blocks if b["type"] == "actions")["elements"]
    select_ = next(e for e in actions if e["action_id"] == action_id)
    return [(o["text"]["text"], o["value"]) for o in select_["options"]]


async def _press(
    stack: SlackStack, fake: FakeSlack, action: dict[str, Any], *, user: str, trigger: str
) -> str:
    """Press a card's button or pick from its select; the response_url it answers on."""
    url = fake.new_response_url()
    form = block_actions_form(
        [action], user_id=user, channel_id="C_BILL", message_ts="1700000500.000200",
        response_url=url, trigger_id=trigger,
    )  # fmt: skip
    assert (await stack.post_form(form)).status_code == 200
    verb = action["action_id"].removeprefix("ticket:")
    verb = "reclassify" if verb.startswith("reclassify") else verb
    assert await stack.settle(f"action:{trigger}:{verb}") == "done"
    return url.rsplit("/", 1)[-1]


async def test_rules_send_each_teams_tickets_to_its_own_channel(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = verdicts
    async with slack_stack(db, fake_slack, fake_deepseek, playbooks=PLAYBOOKS) as stack:
        await _mention(stack, "I was charged twice this month", 1)
        await _mention(stack, TRACE, 2)
        await _mention(stack, "hello there", 3)  # T_OTHER's rule is not T_ACME's
    billing, bug, hello = await _tickets(db)
    assert (billing.team, billing.route, billing.status) == ("billing", "human", "escalated")
    assert billing.route_reason == 'rule "billing high": category billing, urgency high'
    assert (bug.team, bug.route) == ("bugs", "human")
    assert (hello.team, hello.route, hello.status) == (None, "answer", "open")
    cards = _leads_cards(fake_slack)
    assert [c.params["channel"] for c in cards] == ["C_BILL", "C_BUGS"]
    assert "team billing" in cards[0].params["text"]
    # Each team's own people are pinged: billing's leads by name, bugs' user group.
    assert cards[0].params["text"].startswith("<@U_ANN> <@U_BOB> ")
    assert cards[1].params["text"].startswith("<!subteam^S_BUGS> ")
    assert "*Team*\nbilling" in _fields(cards[0])
    # The team's SLA (5 min), not the desk's 15.
    assert _sla(billing) == timedelta(minutes=5)
    assert _sla(bug) == timedelta(minutes=120)  # bugs sets no SLA: the desk's, for medium


async def test_round_robin_suggestions_alternate_and_a_team_lead_claims(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = verdicts
    async with slack_stack(db, fake_slack, fake_deepseek, playbooks=PLAYBOOKS) as stack:
        for n in range(1, 4):
            await _mention(stack, f"I was charged twice, invoice {n}", n)
        await _mention(stack, TRACE, 4)
        first, _, _, bug = await _tickets(db)
        # U_ANN leads billing only: the bugs ticket is not hers to claim.
        await _press(stack, fake_slack, button_action("ticket:claim", str(bug.id)),
                     user="U_ANN", trigger="c1")  # fmt: skip
        await _press(stack, fake_slack, button_action("ticket:claim", str(first.id)),
                     user="U_ANN", trigger="c2")  # fmt: skip
    tickets = await _tickets(db)
    assert [t.suggested_assignee_id for t in tickets[:3]] == ["U_ANN", "U_BOB", "U_ANN"]
    suggested = [f for c in _leads_cards(fake_slack)[:3] for f in _fields(c) if "Suggested" in f]
    assert suggested == ["*Suggested*\n<@U_ANN>", "*Suggested*\n<@U_BOB>", "*Suggested*\n<@U_ANN>"]
    assert (tickets[0].status, tickets[0].assignee_id) == ("claimed", "U_ANN")
    assert (tickets[3].status, tickets[3].assignee_id) == ("escalated", None)
    async with db.sessions() as session:
        audit = [(a.actor, a.action, a.target) for a in (await session.scalars(select(AuditEntry)))]
    assert ("slack:U_ANN", "action.refused", f"ticket:{bug.id}") in audit
    assert ("slack:U_ANN", "ticket.claimed", f"ticket:{first.id}") in audit
    # The claimed card now shows its assignee instead of the suggestion.
    updated = [u for u in fake_slack.calls_to("chat.update") if u.params["channel"] == "C_BILL"]
    assert "*Assignee*\n<@U_ANN>" in _fields(updated[-1])
    assert not any("Suggested" in f for f in _fields(updated[-1]))


RENAMED = Playbook(
    taxonomy=Taxonomy(
        categories=(
            CategoryDef(name="payments", description="money", formerly=("billing",)),
            CategoryDef(name="crash", description="the game crashes"),
            CategoryDef(name="other", description="anything else"),
        )
    )
)


async def test_old_tickets_read_by_todays_names_and_the_selects_offer_the_taxonomy(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    """Stored under the default taxonomy, then the operator renames billing to payments
    and drops feature_request: the cards, updated, read as today's configuration."""
    fake_deepseek.reply(triage_json(category="billing", urgency="high", needs_human=True))
    fake_deepseek.reply(triage_json(category="feature_request", urgency="low", needs_human=True))
    async with slack_stack(db, fake_slack, fake_deepseek) as stack:
        await _mention(stack, "I was charged twice", 1)
        await _mention(stack, "Please add dark mode", 2)
    billing, wish = await _tickets(db)
    async with slack_stack(
        db, fake_slack, fake_deepseek, playbooks=Playbooks(default=RENAMED)
    ) as stack:
        for n, ticket in enumerate((billing, wish), start=1):
            press = button_action("ticket:claim", str(ticket.id))
            await _press(stack, fake_slack, press, user="U_LEAD", trigger=f"c{n}")
        pick = select_action("ticket:reclassify-category", f"{wish.id}:category=crash")
        await _press(stack, fake_slack, pick, user="U_LEAD", trigger="r1")
        gone = select_action("ticket:reclassify-category", f"{billing.id}:category=feature_request")
        refused = await _press(stack, fake_slack, gone, user="U_LEAD", trigger="r2")
    updates = fake_slack.calls_to("chat.update")
    by_ticket = {
        t.id: [u for u in updates if f"Ticket #{t.id} " in json.dumps(u.blocks)]
        for t in (billing, wish)
    }
    assert "*Category*\npayments" in _fields(by_ticket[billing.id][0])
    assert "*Category*\nfeature_request" in _fields(by_ticket[wish.id][0])  # as stored
    assert "*Category*\ncrash" in _fields(by_ticket[wish.id][-1])  # reclassified
    assert _options(by_ticket[billing.id][0], "ticket:reclassify-category") == [
        ("payments", f"{billing.id}:category=payments"),
        ("crash", f"{billing.id}:category=crash"),
        ("other", f"{billing.id}:category=other"),
    ]
    (answer,) = fake_slack.response_posts[refused]
    assert "“feature_request” is not a category" in answer["text"]
    assert "payments, crash, other" in answer["text"]
    billing, wish = await _tickets(db)
    assert (billing.category, wish.category) == ("billing", "crash")  # nothing changed on a no


async def test_a_member_of_the_teams_user_group_works_its_tickets(
    db: Database, fake_slack: FakeSlack, fake_deepseek: FakeDeepSeek
) -> None:
    """U_DEV is named nowhere: being in the bugs team's Slack user group is enough, for
    the bugs team's tickets only."""
    fake_slack.usergroup_members["S_BUGS"] = ["U_DEV"]
    fake_deepseek.responder = verdicts
    async with slack_stack(db, fake_slack, fake_deepseek, playbooks=PLAYBOOKS) as stack:
        await _mention(stack, "I was charged twice", 1)
        await _mention(stack, TRACE, 2)
        billing, bug = await _tickets(db)
        await _press(stack, fake_slack, button_action("ticket:claim", str(billing.id)),
                     user="U_DEV", trigger="c1")  # fmt: skip
        await _press(stack, fake_slack, button_action("ticket:claim", str(bug.id)),
                     user="U_DEV", trigger="c2")  # fmt: skip
    billing, bug = await _tickets(db)
    assert (bug.status, bug.assignee_id) == ("claimed", "U_DEV")
    assert (billing.status, billing.assignee_id) == ("escalated", None)
    assert [c.params["usergroup"] for c in fake_slack.calls_to("usergroups.users.list")] == [
        "S_BUGS"
    ]
