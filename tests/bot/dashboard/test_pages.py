"""The dashboard's pages over HTTP, on a seeded database: the queue, the tickets list
with its filters and search, a ticket's transcript, analytics and costs.

Tickets are written straight into the database in the lead's Slack workspace T_ACME,
another Slack workspace (T_OTHER) and a Discord guild that happens to have the same id
(T_ACME on Discord): only the first is the lead's. The pages are served on 127.0.0.1
under /dashboard, with a tiny middleware signing the lead in (the real session
middleware is tested in test_auth.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from aiohttp import web

from bot.config.playbook import Playbooks, playbook_problems
from bot.dashboard.charts import nice_step, stacked_bars
from bot.dashboard.pages import DashboardPages
from bot.dashboard.render import Pages
from bot.dashboard.viewer import VIEWER, Viewer
from bot.store.db import Database
from bot.store.kb_tables import Retrieval
from bot.store.models import AuditEntry, LlmCall, Message, Ticket, TriageRun
from bot.tickets.erasure import erase_user
from bot.tickets.sla import SlaPolicy
from tests.bot.dashboard.conftest import Serve

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
LEAD = Viewer(platform="slack", user_id="U_LEAD", workspaces=("T_ACME",), csrf_token="csrf-token-1")
SECRET = "ZEBRA-OTHER"
"""A word only the other tenants' tickets hold: it must never show."""
ROW = re.compile(r'<tr id="ticket-(\d+)"')


def _ticket(number: int, *, hours_ago: float, **fields: object) -> Ticket:
    opened = NOW - timedelta(hours=hours_ago)
    values: dict[str, object] = {
        "platform": "slack",
        "workspace_id": "T_ACME",
        "channel_id": "C_HELP",
        "requester_id": f"U_ASKER{number}",
        "status": "open",
        "created_at": opened,
        "updated_at": opened,
        "last_activity_at": opened,
    }
    values.update(fields)
    return Ticket(id=number, thread_id=f"1700000000.{number:06d}", **values)


def _call(ticket_id: int | None, cost: str, *, purpose: str, workspace: str, **more: object):
    return LlmCall(
        ticket_id=ticket_id,
        purpose=purpose,
        model=str(more.pop("model", "deepseek-chat")),
        status="ok",
        cost_usd=Decimal(cost),
        workspace_id=workspace,
        prompt_cache_hit_tokens=64,
        prompt_cache_miss_tokens=100,
        completion_tokens=30,
        created_at=more.pop("at", NOW - timedelta(hours=1)),
        **more,
    )


async def seed(db: Database) -> None:
    """The desk described in the module docstring."""
    escalated = {"status": "escalated", "route": "human"}
    async with db.sessions.begin() as session:
        session.add_all(
            [
                _ticket(1, hours_ago=3.5, **escalated, category="billing", urgency="high",
                        team="payments",
                        summary="Charged twice for March", escalated_at=NOW - timedelta(hours=3),
                        sla_due_at=NOW - timedelta(hours=3) + timedelta(minutes=15),
                        route_reason="triage says a person is needed"),
                _ticket(2, hours_ago=1.5, status="claimed", route="human", category="bug",
                        urgency="medium", summary="Login loops", assignee_id="U_LEAD",
                        escalated_at=NOW - timedelta(hours=1),
                        claimed_at=NOW - timedelta(minutes=50),
                        sla_due_at=NOW + timedelta(hours=1)),
                _ticket(3, hours_ago=0.6, **escalated, category="feature_request",
                        urgency="low", summary="Dark mode please", channel_id="C_IDEAS",
                        escalated_at=NOW - timedelta(minutes=30),
                        sla_due_at=NOW + timedelta(minutes=90),
                        suggested_assignee_id="U_SAM"),
                _ticket(4, hours_ago=48, status="resolved", route="answer", category="bug",
                        urgency="medium", summary="CSV export fails",
                        resolved_at=NOW - timedelta(hours=47), satisfaction="good"),
                _ticket(5, hours_ago=5, **escalated, workspace_id="T_OTHER", category="account",
                        urgency="high", summary=f"{SECRET} account locked",
                        escalated_at=NOW - timedelta(hours=5)),
                _ticket(6, hours_ago=4, **escalated, platform="discord", category="account",
                        urgency="high", summary=f"{SECRET} guild crash",
                        escalated_at=NOW - timedelta(hours=4)),
            ]
        )  # fmt: skip
        await session.flush()
        session.add_all(
            [
                Message(ticket_id=1, message_id="m1", author_id="U_ASKER1",
                        text="I was charged twice for my invoice",
                        posted_at=NOW - timedelta(hours=3.5)),
                Message(ticket_id=1, message_id="m1b", author_id="bot", is_bot=True,
                        text="Sorry about that, a person will look at the refund.",
                        reasoning="Double charge: refunds need a person.",
                        posted_at=NOW - timedelta(hours=3.4)),
                Message(ticket_id=1, message_id="m1c", author_id="U_LEAD",
                        text="Looking into it now", posted_at=NOW - timedelta(hours=2)),
                Message(ticket_id=2, message_id="m2", author_id="U_ASKER2",
                        text="The login page loops forever", posted_at=NOW - timedelta(hours=1.5)),
                Message(ticket_id=3, message_id="m3", author_id="U_ASKER3",
                        text="Please add a dark mode", posted_at=NOW - timedelta(hours=0.6)),
                Message(ticket_id=4, message_id="m4", author_id="U_ASKER4",
                        text="The export crashes with a CSV error",
                        posted_at=NOW - timedelta(hours=48)),
                Message(ticket_id=5, message_id="m5", author_id="U_X",
                        text=f"{SECRET} payment crashes", posted_at=NOW - timedelta(hours=5)),
                Message(ticket_id=6, message_id="m6", author_id="U_Y",
                        text=f"{SECRET} export crashes", posted_at=NOW - timedelta(hours=4)),
                TriageRun(ticket_id=1, source="llm", model="deepseek-chat",
                          prompt_version="triage.v3",
                          result={"category": "billing", "urgency": "high", "confidence": 0.91,
                                  "needs_human": True, "summary": "Charged twice for March"},
                          created_at=NOW - timedelta(hours=3.5)),
                TriageRun(ticket_id=4, source="llm", model="deepseek-chat",
                          result={"category": "billing", "urgency": "medium"},
                          created_at=NOW - timedelta(hours=48)),
                TriageRun(ticket_id=4, source="human",
                          result={"category": "bug", "urgency": "medium", "by": "slack:U_LEAD"},
                          created_at=NOW - timedelta(hours=47.5)),
                Retrieval(ticket_id=1, outcome="abstained", context_tokens=0,
                          hits=[{"location": "https://docs.example.com/billing",
                                 "title": "Billing FAQ", "heading": "Refunds",
                                 "chunk_id": 7, "score": 0.42}],
                          created_at=NOW - timedelta(hours=3.4)),
                _call(1, "0.0012", purpose="triage", workspace="T_ACME",
                      prompt_version="triage.v3", latency_ms=321),
                _call(1, "0.0030", purpose="answer", workspace="T_ACME", model="deepseek-reasoner"),
                _call(4, "0.0100", purpose="answer", workspace="T_ACME",
                      at=NOW - timedelta(hours=48)),
                _call(None, "0.0005", purpose="triage", workspace="T_ACME"),
                _call(5, "0.5000", purpose="answer", workspace="T_OTHER"),
                _call(6, "0.2500", purpose="answer", workspace="T_ACME"),  # Discord's T_ACME
                AuditEntry(actor="bot", action="ticket.triaged", target="ticket:1",
                           detail={"route": "human", "category": "billing"},
                           at=NOW - timedelta(hours=3.5)),
                AuditEntry(actor="bot", action="ticket.escalated", target="ticket:1",
                           detail={"status": "escalated"}, at=NOW - timedelta(hours=3)),
                AuditEntry(actor="bot", action="ticket.escalated", target="ticket:5",
                           detail={"status": SECRET}, at=NOW - timedelta(hours=5)),
            ]
        )  # fmt: skip


def dashboard(
    db: Database, viewer: Viewer = LEAD, playbooks: Playbooks | None = None
) -> web.Application:
    """The pages under /dashboard, with `viewer` signed in on every request."""

    @web.middleware
    async def signed_in(request: web.Request, handler):  # type: ignore[no-untyped-def]
        request[VIEWER] = viewer
        return await handler(request)

    pages = DashboardPages(
        db.sessions,
        Pages(prefix="/dashboard"),
        playbooks=playbooks or Playbooks(),
        sla=SlaPolicy(),
        clock=lambda: NOW,
    )
    inner = web.Application(middlewares=[signed_in])
    inner.add_routes(pages.routes())
    site = web.Application()
    site.add_subapp("/dashboard", inner)
    return site


@pytest.fixture
async def client(db: Database, serve: Serve) -> httpx.AsyncClient:
    await seed(db)
    return await serve(dashboard(db))


def _ids(html: str) -> list[int]:
    return [int(found) for found in ROW.findall(html)]


def _row(html: str, ticket_id: int) -> str:
    start = html.index(f'<tr id="ticket-{ticket_id}"')
    return html[start : html.index("</tr>", start)]


async def _ok(client: httpx.AsyncClient, path: str) -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


# --- The queue ------------------------------------------------------------------------


async def test_the_queue_is_the_leads_open_escalations_oldest_first(
    client: httpx.AsyncClient,
) -> None:
    html = await _ok(client, "/dashboard/")
    assert _ids(html) == [1, 2, 3]  # not the resolved #4, nor the other tenants' #5, #6
    assert SECRET not in html
    breached = _row(html, 1)
    assert "BREACHED 2 h 45 min ago" in breached
    assert 'class="breached"' in breached
    assert "billing" in breached
    assert ">high<" in breached
    assert "Charged twice for March" in breached
    assert 'href="/dashboard/tickets/1"' in breached
    assert "claimed by U_LEAD" in _row(html, 2)
    third = _row(html, 3)
    assert "due in 1 h 30 min" in third
    assert "feature request" in third
    assert "suggested: U_SAM" in third


async def test_an_empty_queue_says_so(db: Database, serve: Serve) -> None:
    client = await serve(dashboard(db))
    html = await _ok(client, "/dashboard/")
    assert "No open escalations" in html
    assert _ids(html) == []


# --- Tickets: filters and search ------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [3, 2, 1, 4]),  # newest first
        ("?status=resolved", [4]),
        ("?status=escalated", [3, 1]),
        ("?category=bug", [2, 4]),
        ("?category=feature+request", [3]),  # as people write it
        ("?urgency=high", [1]),
        ("?route=answer", [4]),
        ("?channel=C_IDEAS", [3]),
        ("?from=2026-03-10", [3, 2, 1]),
        ("?to=2026-03-09", [4]),
        ("?from=2026-03-08&to=2026-03-08", [4]),
        ("?status=&category=&q=", [3, 2, 1, 4]),  # empty selects mean any
        ("?q=charged", [1]),  # a word of a message, stemmed
        ("?q=crash", [4]),  # "crashes": not the other tenants' #5 and #6
        ("?q=march", [1]),  # a word of the summary
        ("?q=export+csv", [4]),  # every word
        ("?q=export+dark", []),
        ("?q=looking", [1]),  # a lead's message
        ('?q="crash*+(-)+^', [4]),  # search syntax is text
        ("?q=csv:export", [4]),  # a column filter is two words
        ("?q=zebra", []),
        ("?status=escalated&q=twice", [1]),
    ],
)
async def test_filters_and_search_find_the_right_tickets(
    client: httpx.AsyncClient, query: str, expected: list[int]
) -> None:
    html = await _ok(client, f"/dashboard/tickets{query}")
    assert _ids(html) == expected
    assert SECRET not in html
    assert f"{len(expected)} ticket" in html


async def test_the_search_box_and_filters_are_labelled_and_keep_their_values(
    client: httpx.AsyncClient,
) -> None:
    html = await _ok(client, "/dashboard/tickets?q=twice&status=escalated&from=2026-03-01")
    assert '<label for="search">' in html
    assert 'id="search" name="q" value="twice"' in html
    assert '<option value="escalated" selected>' in html
    assert 'name="from" value="2026-03-01"' in html
    for name in ("status", "category", "urgency", "route", "channel", "from", "to"):
        assert f'<label for="f-{name}">' in html


async def test_erased_text_no_longer_matches(db: Database, client: httpx.AsyncClient) -> None:
    assert _ids(await _ok(client, "/dashboard/tickets?q=crash")) == [4]
    await erase_user(db.sessions, user_id="U_ASKER4", actor="cli:operator", now=NOW)
    assert _ids(await _ok(client, "/dashboard/tickets?q=crash")) == []
    assert _ids(await _ok(client, "/dashboard/tickets?q=csv")) == []  # its summary went too
    assert _ids(await _ok(client, "/dashboard/tickets?status=resolved")) == [4]


async def test_the_list_pages_fifty_at_a_time(db: Database, serve: Serve) -> None:
    async with db.sessions.begin() as session:
        session.add_all(_ticket(n, hours_ago=n) for n in range(1, 121))
    client = await serve(dashboard(db))
    first = await _ok(client, "/dashboard/tickets")
    assert _ids(first) == list(range(1, 51))
    assert "120 tickets, page 1 of 3" in first
    assert 'href="/dashboard/tickets?page=2"' in first
    last = await _ok(client, "/dashboard/tickets?page=3")
    assert _ids(last) == list(range(101, 121))
    assert 'id="next"' not in last
    assert _ids(await _ok(client, "/dashboard/tickets?page=9")) == []


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("status=bogus", "status"),
        ("category=refunds", "category"),
        ("urgency=urgent", "urgency"),
        ("route=teleport", "route"),
        ("channel=%3Cscript%3E", "channel"),
        ("from=2026-13-01", "from"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-03-10&to=2026-03-01", "to"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=%D9%A3", "page"),  # an Arabic-Indic digit is not a page number
        ("page=99999999999999999999", "page"),
        ("q=" + "x" * 201, "q"),
    ],
)
async def test_a_bad_filter_is_a_400_page_naming_it(
    client: httpx.AsyncClient, query: str, name: str
) -> None:
    response = await client.get(f"/dashboard/tickets?{query}")
    assert response.status_code == 400
    assert f"The “{name}” filter is not valid" in response.text
    assert "<script>" not in response.text
    assert _ids(response.text) == []


# --- A ticket's transcript ------------------------------------------------------------


async def test_the_transcript_shows_everything_recorded(client: httpx.AsyncClient) -> None:
    html = await _ok(client, "/dashboard/tickets/1")
    messages = html[html.index('id="messages"') : html.index('id="verdicts"')]
    assert "I was charged twice for my invoice" in messages
    assert "Looking into it now" in messages
    assert '<li class="msg bot">' in messages
    assert "Sorry about that, a person will look at the refund." in messages
    assert "<details" in messages
    assert "Double charge: refunds need a person." in messages
    verdicts = html[html.index('id="verdicts"') : html.index('id="sources"')]
    assert "deepseek-chat" in verdicts
    assert "triage.v3" in verdicts
    assert "0.91" in verdicts
    assert "Charged twice for March" in verdicts
    assert "triage says a person is needed" in html[html.index('id="route"') :]
    sources = html[html.index('id="sources"') : html.index('id="calls"')]
    assert '<a href="https://docs.example.com/billing"' in sources
    assert "Billing FAQ" in sources
    assert "Refunds" in sources
    assert "abstained" in sources
    calls = html[html.index('id="calls"') : html.index('id="audit"')]
    assert 'id="calls-cost">$0.0042<' in calls
    assert "$0.0012" in calls
    assert "$0.0030" in calls
    assert "triage" in calls
    assert "deepseek-reasoner" in calls
    assert "321 ms" in calls
    assert "164 (64)" in calls  # tokens in, of which cached
    audit = html[html.index('id="audit"') :]
    assert "ticket.triaged" in audit
    assert "ticket.escalated" in audit
    assert "route: human" in audit
    assert SECRET not in html


async def test_the_action_forms_are_those_the_status_allows(client: httpx.AsyncClient) -> None:
    escalated = await _ok(client, "/dashboard/tickets/1")
    for action in ("claim", "resolve", "reclassify"):
        assert f'<form method="post" action="/dashboard/tickets/1/{action}"' in escalated
    assert "/dashboard/tickets/1/reopen" not in escalated
    assert escalated.count('<input type="hidden" name="csrf" value="csrf-token-1">') >= 4
    reclassify = escalated[escalated.index('id="reclassify"') :]
    assert '<select id="r-category" name="category">' in reclassify
    assert '<option value="billing" selected>billing</option>' in reclassify
    assert '<option value="feature_request">feature request</option>' in reclassify
    assert '<option value="high" selected>high</option>' in reclassify
    resolved = await _ok(client, "/dashboard/tickets/4")
    assert '<form method="post" action="/dashboard/tickets/4/reopen"' in resolved
    for action in ("claim", "resolve", "reclassify"):
        assert f"/dashboard/tickets/4/{action}" not in resolved


async def test_another_tenants_ticket_is_the_same_404_as_a_missing_one(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/dashboard/tickets/999")
    assert missing.status_code == 404
    for ticket_id in (5, 6):  # another workspace; the same workspace id on Discord
        response = await client.get(f"/dashboard/tickets/{ticket_id}")
        assert response.status_code == 404
        assert SECRET not in response.text
        assert response.text == missing.text.replace("#999", f"#{ticket_id}")
    for odd in ("abc", "0", "-1", "99999999999999999999", "%D9%A3"):
        assert (await client.get(f"/dashboard/tickets/{odd}")).status_code == 404


# --- Analytics and costs --------------------------------------------------------------


async def test_analytics_charts_tickets_per_day_by_category(client: httpx.AsyncClient) -> None:
    html = await _ok(client, "/dashboard/analytics?since=7d")
    chart = html[html.index('<figure class="chart" id="tickets-per-day">') :]
    chart = chart[: chart.index("</figure>")]
    assert "<svg" in chart
    assert 'role="img"' in chart
    assert "<title>2026-03-10 · billing: 1</title>" in chart
    assert "<title>2026-03-08 · bug: 1</title>" in chart
    legend = re.findall(r"</svg> ([^<]+)</li>", chart)
    assert sorted(legend) == ["billing", "bug", "feature request"]  # not the others' account
    table = html[html.index('id="per-day"') :]
    assert '<th scope="row">2026-03-10</th>' in table
    assert re.search(r'<th scope="row">All days</th>(<td class="num">\d+</td>){3}'
                     r'<td class="num">4</td>', table)  # fmt: skip
    assert "Time to claim (from escalation)" in html
    assert "10 min" in html  # #2 claimed 10 minutes after its escalation
    figures = html[html.index('id="figures"') :]
    assert re.search(r"Deflection</span> <span class=\"value\">100%", figures)
    assert re.search(r"Satisfaction</span> <span class=\"value\">100%", figures)
    assert re.search(r"Triage accuracy</span> <span class=\"value\">50%", figures)
    assert SECRET not in html


async def test_analytics_windows_and_a_bad_one(client: httpx.AsyncClient) -> None:
    week = await _ok(client, "/dashboard/analytics")
    assert 'href="/dashboard/analytics?since=30d" aria-current="page"' in week
    assert (await _ok(client, "/dashboard/analytics?since=90d")).count("<rect x=") >= 3
    bad = await client.get("/dashboard/analytics?since=1y")
    assert bad.status_code == 400
    assert "The “since” filter is not valid" in bad.text
    assert (await client.get("/dashboard/costs?since=forever")).status_code == 400


async def test_costs_add_up_the_leads_ledger_rows_only(client: httpx.AsyncClient) -> None:
    html = await _ok(client, "/dashboard/costs?since=7d")
    # #1 0.0012 + 0.0030, #4 0.0100 and a ticketless call 0.0005: not T_OTHER's 0.5000
    # nor the 0.2500 of Discord's T_ACME.
    assert 'id="total-spend" title="0.0147' in html
    assert ">$0.0147<" in html
    assert 'id="per-ticket">$0.0071<' in html  # 0.0142 over tickets #1 and #4
    by_model = html[html.index('id="by-model"') :]
    assert re.search(r'deepseek-chat</th><td class="num" title="0.0117[0-9]*">\$0.0117', by_model)
    assert re.search(
        r'deepseek-reasoner</th><td class="num" title="0.003[0-9]*">\$0.0030', by_model
    )
    by_day = html[html.index('id="by-day"') :]
    assert re.search(r"2026-03-08</th><td[^>]*>\$0.0100</td><td class=\"num\">1<", by_day)
    assert re.search(r"2026-03-10</th><td[^>]*>\$0.0047</td><td class=\"num\">3<", by_day)
    by_purpose = html[html.index('id="by-purpose"') :]
    assert re.search(r"answer</th><td[^>]*>\$0.0130<", by_purpose)
    assert re.search(r"triage</th><td[^>]*>\$0.0017<", by_purpose)
    resolved = html[html.index('id="per-resolved"') :]
    assert re.search(r'answer</th><td class="num">1</td><td class="num">\$0.0100', resolved)
    chart = html[html.index('id="cost-per-day"') :]
    assert "<title>2026-03-10 · model spend: $0.0047</title>" in chart
    assert "T_OTHER" not in html
    assert "0.5000" not in html
    assert "0.2500" not in html


async def test_pages_link_under_the_prefix_and_the_stylesheet(client: httpx.AsyncClient) -> None:
    html = await _ok(client, "/dashboard/tickets")
    assert '<link rel="stylesheet" href="/dashboard/static/dashboard.css">' in html
    for path in ("/", "/tickets", "/analytics", "/costs"):
        assert f'href="/dashboard{path}"' in html
    assert 'aria-current="page">Tickets</a>' in html
    assert '<form method="post" action="/dashboard/logout"' in html


# --- The workspace's own taxonomy -----------------------------------------------------


def _renamed() -> Playbooks:
    """T_ACME's playbook: "bug" renamed "defect", high urgency labelled, a payments team."""
    categories = [
        {"name": "billing", "description": "money"},
        {"name": "defect", "description": "broken things", "formerly": ["bug"]},
        {"name": "feature_request", "description": "wishes"},
        {"name": "account", "description": "logins"},
    ]
    urgencies = [{"name": "high", "definition": "on fire", "label": "P1 - critical"}]
    teams = [{"name": "payments", "lead_user_ids": ["U_LEAD"]}]
    playbooks, problems = playbook_problems(
        {
            "workspaces": {
                "T_ACME": {"categories": categories, "urgencies": urgencies, "teams": teams}
            }
        }
    )
    assert playbooks is not None, problems
    return playbooks


async def test_labels_read_in_the_workspaces_taxonomy_today(db: Database, serve: Serve) -> None:
    await seed(db)
    client = await serve(dashboard(db, playbooks=_renamed()))
    queue = await _ok(client, "/dashboard/")
    assert ">P1 - critical<" in _row(queue, 1)
    assert ">payments<" in _row(queue, 1)
    assert ">defect<" in _row(queue, 2)  # stored as "bug"
    tickets = await _ok(client, "/dashboard/tickets?category=defect")
    assert _ids(tickets) == [2, 4]
    assert '<option value="defect" selected>defect</option>' in tickets
    assert _ids(await _ok(client, "/dashboard/tickets?category=bug")) == [2, 4]  # its old name
    transcript = await _ok(client, "/dashboard/tickets/2")
    assert '<option value="defect" selected>defect</option>' in transcript
    assert '<option value="high">P1 - critical</option>' in transcript
    analytics = await _ok(client, "/dashboard/analytics?since=7d")
    assert "<title>2026-03-08 · defect: 1</title>" in analytics


async def test_with_the_default_playbook_a_team_it_lacks_reads_as_none(
    client: httpx.AsyncClient,
) -> None:
    assert "payments" not in await _ok(client, "/dashboard/")


# --- Chart geometry -------------------------------------------------------------------


def test_grid_steps_are_round_numbers() -> None:
    assert nice_step(0, whole=True) == 1
    assert nice_step(3, whole=True) == 1
    assert nice_step(37, whole=True) == 10
    assert nice_step(0.0147) == 0.005
    assert nice_step(180) == 50


def test_bars_stack_in_proportion_with_a_tooltip_each() -> None:
    chart = stacked_bars(
        "t", ["2026-03-01", "2026-03-02"], {"bug": [1.0, 3.0], "billing": [0.0, 1.0]}
    )
    assert [s.title for s in chart.segments] == [
        "2026-03-01 · bug: 1",
        "2026-03-02 · bug: 3",
        "2026-03-02 · billing: 1",
    ]
    one, three, billing = chart.segments
    assert three.height == pytest.approx(3 * one.height)
    assert billing.y + billing.height == pytest.approx(three.y)  # stacked on top
    assert three.y + three.height == pytest.approx(chart.bottom)
    assert [t.label for t in chart.ticks] == ["0", "1", "2", "3", "4"]
    assert [item.name for item in chart.legend] == ["bug", "billing"]
    assert [label.text for label in chart.labels] == ["03-01", "03-02"]


def test_a_long_window_labels_at_most_ten_days_and_nothing_is_empty() -> None:
    days = [f"2026-01-{n:02d}" for n in range(1, 32)] + [f"2026-02-{n:02d}" for n in range(1, 29)]
    chart = stacked_bars("t", days, {"x": [0.0] * len(days)})
    assert chart.empty
    assert len(chart.labels) <= 10
    assert chart.labels[0].text == "01-01"
