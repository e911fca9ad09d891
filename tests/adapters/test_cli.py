"""`supportbot chat`, `triage`, `tickets` and `eval` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from adapters.console import SEEN_LINE
from bot.store.db import Database
from bot.store.models import AuditEntry
from tests.bot.harness import RecordingOutlet, mention, responder, running_app, settle, triage_json
from tests.bot.pipeline.dump import database_dump
from tests.cli_runner import clean_env, run_cli
from tests.conftest import FAKE_KEY
from tests.fakes.deepseek import FakeDeepSeek
from tests.fakes.deepseek_stream import StreamShape

SCRIPT = """I was charged twice for my subscription this month
Also the invoice has the wrong VAT number
/summary
/escalations
/claim 1
/ticket 1
/quit
"""


async def test_chat_offline_shows_the_card_escalation_and_summary(tmp_path: Path) -> None:
    outcome = await run_cli("chat", cwd=tmp_path, env=clean_env(), stdin=SCRIPT)
    assert outcome.code == 0, outcome.stderr
    out = outcome.stdout
    assert "triage runs offline on rules" in out
    assert "Ticket #1 · escalated" in out
    assert "billing" in out
    assert "[Claim]" in out
    assert "[#leads]" in out
    assert "Ticket #1 (escalated) summary:" in out
    assert "Open escalations (1)" in out
    assert "updated: claimed" in out
    assert "Traceback" not in outcome.stderr


async def test_chat_with_the_model_answers_in_the_thread(
    tmp_path: Path, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder(answer="- Asks how to export data\n- No reply yet")
    env = clean_env(DEEPSEEK_API_KEY=FAKE_KEY, DEEPSEEK_BASE_URL=fake_deepseek.base_url)
    outcome = await run_cli(
        "chat", cwd=tmp_path, env=env, stdin="How do I export my data?\n/summary\n"
    )
    assert outcome.code == 0, outcome.stderr
    assert "offline" not in outcome.stdout
    assert "Ticket #1 · open" in outcome.stdout
    assert "bot: - Asks how to export data" in outcome.stdout  # the answer, in the thread
    assert "Ticket #1 (open) summary:" in outcome.stdout

    listing = await run_cli("tickets", "--json", cwd=tmp_path, env=env)
    (ticket,) = json.loads(listing.stdout)
    assert (ticket["platform"], ticket["category"], ticket["route"]) == (
        "console",
        "feature_request",
        "answer",
    )


async def test_triage_prints_one_json_object(tmp_path: Path, fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.reply(triage_json(category="billing", urgency="high", needs_human=True))
    env = clean_env(DEEPSEEK_API_KEY=FAKE_KEY, DEEPSEEK_BASE_URL=fake_deepseek.base_url)
    outcome = await run_cli("triage", "I was double charged", cwd=tmp_path, env=env)
    assert outcome.code == 0, outcome.stderr
    result = json.loads(outcome.stdout)
    assert {
        "category",
        "urgency",
        "summary",
        "needs_human",
        "confidence",
        "source",
        "route",
        "route_reason",
        "prompt_version",
        "tokens",
        "cost_usd",
    } <= set(result)
    assert (result["category"], result["source"], result["route"]) == ("billing", "llm", "human")
    assert result["prompt_version"] == "triage.v3"
    assert result["tokens"]["cache_miss"] > 0
    assert float(result["cost_usd"]) > 0


async def test_triage_reads_stdin_and_works_offline(tmp_path: Path) -> None:
    outcome = await run_cli(
        "triage",
        cwd=tmp_path,
        env=clean_env(),
        stdin="URGENT: production is down, all users get error 500",
    )
    result = json.loads(outcome.stdout)
    assert (result["source"], result["route"], result["needs_human"]) == ("fallback", "human", True)
    assert result["urgency"] == "high"
    assert result["cost_usd"] == "0"


async def test_eval_on_the_shipped_sample_reports_accuracy(tmp_path: Path) -> None:
    sample = Path(__file__).parents[2] / "examples" / "eval-sample.jsonl"
    outcome = await run_cli("eval", str(sample), "--json", cwd=tmp_path, env=clean_env())
    assert outcome.code == 0, outcome.stderr
    report = json.loads(outcome.stdout)
    assert report["cases"] >= 40
    assert 0 < report["accuracy"]["category"] <= 1
    assert report["fallback_rate"] == 1.0  # no key: every verdict is the rules'


async def test_run_says_which_adapters_start_and_why_not(tmp_path: Path) -> None:
    outcome = await run_cli("run", cwd=tmp_path, env=clean_env(SLACK_BOT_TOKEN="xoxb-1"))
    assert outcome.code == 1
    assert "slack    off  set SLACK_APP_TOKEN for Socket Mode" in outcome.stdout
    assert "discord  off  DISCORD_BOT_TOKEN is not set" in outcome.stdout
    assert "supportbot chat" in outcome.stdout
    http = await run_cli("run", "--http", cwd=tmp_path, env=clean_env(SLACK_BOT_TOKEN="xoxb-1"))
    assert "HTTP mode needs SLACK_SIGNING_SECRET" in http.stdout


async def test_forget_erases_a_users_text_everywhere_and_audits_without_content(
    tmp_path: Path, db: Database, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    async with running_app(db, fake_deepseek, RecordingOutlet()) as app:
        for i, user in enumerate(["U_ALICE", "U_BOB"]):
            event = mention(f"secret plans {user}", message_id=f"1700004000.00000{i}", user=user)
            await app.intake.submit(event)
            assert await settle(app, event.event_id) == "done"
    outcome = await run_cli("forget", "U_ALICE", cwd=tmp_path, env=clean_env(DATABASE_URL=db.url))
    assert outcome.code == 0, outcome.stderr
    assert "erased the text of 1 message(s) by U_ALICE" in outcome.stdout
    dump = await database_dump(db)
    assert "secret plans U_ALICE" not in dump  # not in messages, nor the inbox's copy
    assert "secret plans U_BOB" in dump
    async with db.sessions() as session:
        entry = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "user.forgotten"))
        ).one()
    assert (entry.actor, entry.target, entry.detail) == (
        "cli:operator",
        "any:U_ALICE",
        {"messages": 1},
    )


async def test_chat_shows_it_is_writing_then_solved_and_a_rating_act_on_this_ticket(
    tmp_path: Path, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_deepseek.responder_delay = 0.5  # the status line comes before the answer
    env = clean_env(DEEPSEEK_API_KEY=FAKE_KEY, DEEPSEEK_BASE_URL=fake_deepseek.base_url)
    script = "How do I export my data?\n/solved\n/good\n/quit\n"
    outcome = await run_cli("chat", cwd=tmp_path, env=env, stdin=script)
    assert outcome.code == 0, outcome.stderr
    out = outcome.stdout
    assert out.index(SEEN_LINE) < out.index("bot: You can export your data")
    assert "[Solved: /solved]   [I need a person: /person]" in out
    assert "Marked as solved by you" in out
    assert "[👍: /good]   [👎: /bad]" in out
    assert "Thanks! Glad we could help." in out
    listing = await run_cli("tickets", "--json", cwd=tmp_path, env=env)
    (ticket,) = json.loads(listing.stdout)
    assert ticket["status"] == "resolved"


async def test_chat_person_hands_the_ticket_to_the_leads(
    tmp_path: Path, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    env = clean_env(DEEPSEEK_API_KEY=FAKE_KEY, DEEPSEEK_BASE_URL=fake_deepseek.base_url)
    outcome = await run_cli(
        "chat", cwd=tmp_path, env=env, stdin="How do I export my data?\n/person\n/quit\n"
    )
    assert outcome.code == 0, outcome.stderr
    assert "I've asked the support team to take over ticket #1" in outcome.stdout
    assert "@leads Ticket #1" in outcome.stdout


async def test_chat_prints_the_answer_as_it_is_written_and_only_once(
    tmp_path: Path, fake_deepseek: FakeDeepSeek
) -> None:
    fake_deepseek.responder = responder()
    fake_deepseek.stream_shape = StreamShape(words_per_chunk=2, chunk_gap=0.05)
    env = clean_env(DEEPSEEK_API_KEY=FAKE_KEY, DEEPSEEK_BASE_URL=fake_deepseek.base_url)
    outcome = await run_cli("chat", cwd=tmp_path, env=env, stdin="How do I export my data?\n")
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.count("You can export your data from Settings") == 1
    assert "bot: You can export your data from Settings > Export." in outcome.stdout
    assert any(r.json and r.json.get("stream") for r in fake_deepseek.requests)
