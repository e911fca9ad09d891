"""Redaction: secrets never pass, look-alikes are never touched, hostile input stays fast."""

from __future__ import annotations

import io
import itertools
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import ConfigError
from bot.config import load_settings
from bot.ops.redaction import Finding, RedactingFilter, Redactor, redact
from tests.bot.ops.corpus import JWT_SAMPLE, LOOK_ALIKES, SENSITIVE, Case

EVERYTHING = [case.text for case in SENSITIVE] + LOOK_ALIKES


def _id(case: Case) -> str:
    return "+".join(kind for kind, _ in case.found)


@pytest.mark.parametrize("case", SENSITIVE, ids=_id)
def test_every_secret_is_replaced_by_its_placeholder(case: Case) -> None:
    redacted = redact(case.text)
    assert redacted == case.expected
    for _, raw in case.found:
        assert raw not in redacted


@pytest.mark.parametrize("case", SENSITIVE, ids=_id)
def test_findings_point_at_the_secrets_in_order(case: Case) -> None:
    found = Redactor().findings(case.text)
    assert [f.kind for f in found] == [kind for kind, _ in case.found]
    assert [case.text[f.start : f.end] for f in found] == [raw for _, raw in case.found]
    assert all(a.end <= b.start for a, b in itertools.pairwise(found))


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert redact(text) == text
    assert Redactor().findings(text) == []


@pytest.mark.parametrize("text", EVERYTHING)
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


def test_the_whole_corpus_as_one_message_redacts_like_its_parts() -> None:
    assert redact("\n".join(EVERYTHING)) == "\n".join(redact(t) for t in EVERYTHING)


@pytest.mark.parametrize("text", EVERYTHING)
def test_a_disabled_redactor_is_a_no_op(text: str) -> None:
    redactor = Redactor(enabled=False)
    assert redactor.redact(text) is text
    assert redactor.findings(text) == []


def test_a_finding_carries_no_matched_text() -> None:
    (finding,) = Redactor().findings("mail jane@example.com")
    assert finding == Finding(kind="EMAIL", start=5, end=21)
    assert "jane" not in repr(finding)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x00jane@example.com\x00",
        "\ud800 jane@example.com \udfff",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 jane@example.com 😀",
        "[EMAIL] [CARD] [NOT_A_KIND]",
    ],
)
def test_odd_text_never_raises_and_still_redacts(text: str) -> None:
    redacted = redact(text)
    assert "jane@example.com" not in redacted
    assert redact(redacted) == redacted


# --- Operator patterns --------------------------------------------------------


def test_extra_patterns_add_placeholders() -> None:
    redactor = Redactor(extra_patterns={"TICKET_REF": r"INC-\d{6}"})
    once = redactor.redact("dup of INC-123456, mail jane@example.com")
    assert once == "dup of [TICKET_REF], mail [EMAIL]"
    assert redactor.redact(once) == once


def test_an_extra_pattern_with_a_secret_group_replaces_only_that_group() -> None:
    redactor = Redactor(extra_patterns={"PIN": r"pin[:= ]+(?P<secret>\d{4})\b"})
    assert redactor.redact("my pin: 4821, not 1234") == "my pin: [PIN], not 1234"


def test_an_extra_pattern_never_eats_a_built_in_placeholder() -> None:
    redactor = Redactor(extra_patterns={"WORD": r"[A-Z]{4,}"})
    once = redactor.redact("card 4111 1111 1111 1111 URGENT")
    assert once == "card [CARD] [WORD]"
    assert redactor.redact(once) == once


@pytest.mark.parametrize(
    ("patterns", "named"),
    [
        ({"TICKET_REF": r"INC-(\d{6}"}, "TICKET_REF"),
        ({"ticket ref": r"INC-\d{6}"}, "ticket ref"),
        ({"ANYTHING": r"x*"}, "ANYTHING"),
    ],
)
def test_a_bad_extra_pattern_is_a_value_error_naming_the_kind(
    patterns: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        Redactor(extra_patterns=patterns)


@pytest.fixture
def clean_settings_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SUPPORTBOT_CONFIG", raising=False)
    monkeypatch.delenv("SUPPORTBOT_REDACTION", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


@pytest.mark.usefixtures("clean_settings_env")
def test_settings_feed_the_redactor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTBOT_REDACTION_PATTERNS", json.dumps({"TICKET_REF": r"INC-\d{6}"}))
    privacy = load_settings().privacy
    redactor = Redactor(enabled=privacy.redaction, extra_patterns=privacy.redaction_patterns)
    assert redactor.redact("see INC-654321") == "see [TICKET_REF]"

    monkeypatch.setenv("SUPPORTBOT_REDACTION", "false")
    privacy = load_settings().privacy
    redactor = Redactor(enabled=privacy.redaction, extra_patterns=privacy.redaction_patterns)
    assert redactor.redact("see INC-654321") == "see INC-654321"


# --- Logging ------------------------------------------------------------------


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.privacy")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


class _Customer:
    def __str__(self) -> str:
        return "Customer(email=jane@example.com)"


def test_the_log_filter_scrubs_message_and_arguments(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    logger.info("ticket.opened by jane@example.com")
    logger.info("payment card=%s phone=%s", "4111 1111 1111 1111", "+44 20 7946 0958")
    logger.info("auth %(token)s", {"token": JWT_SAMPLE})
    logger.info("customer %s", _Customer())
    logger.info("contact %s@%s", "jane", "example.com")  # split across arguments
    lines = stream.getvalue().splitlines()
    assert lines == [
        "ticket.opened by [EMAIL]",
        "payment card=[CARD] phone=[PHONE]",
        "auth [JWT]",
        "customer Customer(email=[EMAIL])",
        "contact [EMAIL]",
    ]


def test_the_log_filter_leaves_clean_records_as_they_were() -> None:
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "ticket %s took %d ms", ("T1", 42), None
    )
    assert RedactingFilter().filter(record) is True
    assert (record.msg, record.args) == ("ticket %s took %d ms", ("T1", 42))


def test_the_log_filter_scrubs_a_record_whose_format_is_broken() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%s %s", ("jane@example.com",), None)
    assert RedactingFilter().filter(record) is True
    assert record.args == ("[EMAIL]",)


# --- Hostile input ------------------------------------------------------------

SIZE = 200_000
ADVERSARIAL = {
    "digits": "1" * SIZE,
    "spaced digits": "1 " * (SIZE // 2),
    "at signs": "a@" * (SIZE // 2),
    "dotted domain": "a@" + "b." * (SIZE // 2),
    "long local part": "a" * SIZE + "@",
    "plus groups": "+1 " * (SIZE // 3),
    "open parens": "+1 (" * (SIZE // 4),
    "url colons": "x://" + ":" * SIZE,
    "url at signs": "x://a:" + "@" * SIZE,
    "repeated schemes": "x://:" * (SIZE // 5),
    "jwt starts": "eyJ." * (SIZE // 4),
    "iban groups": "GB82" + " ABCD" * (SIZE // 5),
    "percent signs": "%" * SIZE,
    "surrogates": "\ud800\U0001f600" * (SIZE // 2),
}


@pytest.mark.parametrize("text", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_hostile_input_redacts_quickly(text: str) -> None:
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 2.0


def test_secrets_in_a_huge_message_are_all_found() -> None:
    chunk = "call +44 20 7946 0958, mail jane@example.com, card 4111111111111111. "
    started = time.perf_counter()
    redacted = redact(chunk * (SIZE // len(chunk)))
    assert time.perf_counter() - started < 2.0
    assert "jane@" not in redacted
    assert "7946" not in redacted
    assert "4111" not in redacted
