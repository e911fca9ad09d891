"""Offline redaction: sensitive values become typed placeholders such as `[EMAIL]`.

Ticket text passes through `Redactor.redact()` before it reaches the LLM, the database
or an INFO log line. Choices made (each covered by tests/privacy/corpus.py):

- Rules run in a fixed order, each claiming its spans before the next looks, so no
  value is half-eaten: URL credentials, JWT, Slack token, API key, AWS key, IBAN, card,
  email, phone, then the operator's patterns. Existing placeholders are never touched
  and the scan repeats while it finds more, so redacting twice changes nothing more.
- EMAIL needs a dotted domain with an alphabetic TLD: `root@localhost`, scp remotes
  (`git@github.com:org/app.git`), URL user names (`ssh://git@host`) and `icon@2x.png`
  stay. In a `mailto:` link only the address is replaced.
- PHONE: `+` international (8-15 digits), North American with an area code
  (`(415) 555-0132`, `415-555-0132`, `415.555.0132`) and trunk-0 national numbers
  (`020 7946 0958`). Bare digit runs and 7-digit local numbers (`555-0132`) stay: they
  cannot be told from order, ticket and invoice numbers.
- CARD: Luhn plus a brand prefix/length check (Luhn alone passes one number in ten);
  16 digits in fours, Amex/Diners 4-6-5/4-6-4, or 13-19 digits not inside a longer number.
- IBAN: upper-case, ISO 7064 mod-97 checked.
- URL_CREDENTIALS replaces only `user:password` (`https://[URL_CREDENTIALS]@db/x`), so
  the host stays for troubleshooting; a user name alone (`postgres://bot@db`) is kept.
- AWS_KEY: key ids anywhere; secret keys only as the value of `aws_secret_access_key`.
- Built-in patterns start behind a look-behind and repeat boundedly or possessively,
  so time stays linear on hostile input. Operator patterns run as given.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from bot import ConfigError

__all__ = ["Finding", "RedactingFilter", "Redactor", "redact"]

# Claimed text becomes NULs, which no built-in class accepts (input NULs become \x01).
_MASK = "\x00"
_MAX_ROUNDS = 4  # only contrived chains of glued values need more than two
_KIND_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,39}")


@dataclass(frozen=True)
class Finding:
    """Where a sensitive value sits in a text; never the value itself."""

    kind: str
    """The placeholder name, e.g. `"EMAIL"`."""
    start: int
    end: int


def _card(value: str) -> bool:
    digits = value.replace(" ", "").replace("-", "")
    size, head = len(digits), digits[:2]
    brand = (
        (head[0] == "4" and size in (13, 16, 19))  # Visa
        or (head in ("34", "37") and size == 15)  # Amex
        or (head in ("30", "36", "38") and size == 14)  # Diners
        or (head[0] in "2356" and 16 <= size <= 19)  # Mastercard, JCB, Maestro, Discover
    )
    doubled = (int(c) * (1 + i % 2) for i, c in enumerate(reversed(digits)))
    return brand and sum(d - 9 if d > 9 else d for d in doubled) % 10 == 0  # Luhn


def _iban_length(value: str) -> int | None:
    # "BE68 5390 0754 7034 ASAP" matches with the next word as a fifth group: drop up
    # to two trailing groups (each retry is another 1-in-97 chance of a false hit).
    for _ in range(3):
        compact = value.replace(" ", "")
        if 15 <= len(compact) <= 34:
            rearranged = compact[4:] + compact[:4]
            if int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1:
                return len(value)
        value, space, _ = value.rpartition(" ")
        if not space:
            return None
    return None


_THOUSANDS = re.compile(r"\+\d{1,3}(?:[ .]\d{3})+")
_LAST_GROUP = re.compile(r"[ .-]\d+$")


def _phone_length(value: str) -> int | None:
    if value.startswith("+"):
        # Groups past 15 digits start the next number: "+44 20 7946 0958 12345".
        while _digits(value) > 15 and (last := _LAST_GROUP.search(value)):
            value = value[: last.start()]
        # "+10 000 000" is an amount with thousands separators, not a number to call.
        ok = 8 <= _digits(value) <= 15 and not _THOUSANDS.fullmatch(value)
    else:  # trunk-0 national numbers; North American shapes are exact in the pattern
        ok = not value.startswith("0") or 9 <= _digits(value) <= 11
    return len(value) if ok else None


def _digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


def _only(check: Callable[[str], bool]) -> Callable[[str], int | None]:
    return lambda value: len(value) if check(value) else None


@dataclass(frozen=True)
class _Rule:
    kind: str
    pattern: re.Pattern[str]
    # The accepted length of the matched value (a prefix), or None to reject it.
    accept: Callable[[str], int | None] = len

    def scan(self, work: str) -> Iterator[Finding]:
        group = "secret" if "secret" in self.pattern.groupindex else 0
        for match in self.pattern.finditer(work):
            start, end = match.span(group)
            value = work[start:end]
            if value and _MASK not in value and (size := self.accept(value)):
                yield Finding(self.kind, start, start + size)


def _rule(kind: str, pattern: str, accept: Callable[[str], int | None] = len) -> _Rule:
    return _Rule(kind, re.compile(pattern, re.VERBOSE), accept)


_BUILT_IN = (
    # The password may hold '@' (greedy up to the last one) but, as in RFC 3986, no
    # '/', '?' or '#'; a colon is required so a bare user name is not a credential.
    _rule("URL_CREDENTIALS", r"""(?<![A-Za-z0-9+.-]) [A-Za-z][A-Za-z0-9+.-]{0,30} ://
          (?P<secret>[^\s/?#:\x00]{0,256}+ : [^\s/?#\x00]{0,256}) @(?=[A-Za-z0-9\[])"""),
    _rule("JWT", r"""(?<![\w-]) eyJ[A-Za-z0-9_-]{8,}+ \.[A-Za-z0-9_-]{2,}+ \.[A-Za-z0-9_-]*+
          (?:\.[A-Za-z0-9_-]++){0,2}+"""),  # up to five segments: JWE too
    _rule("SLACK_TOKEN", r"(?<![\w-]) (?:xox[abeprs]-|xapp-\d-) [A-Za-z0-9-]{10,}+"),
    # Real keys are random; "sk-learn-compatible-pipeline-steps" is prose.
    _rule("API_KEY", r"(?<![\w-]) sk-[A-Za-z0-9_-]{20,}+", _only(lambda key: _digits(key) > 0)),
    _rule("AWS_KEY", r"(?<![A-Za-z0-9]) (?:AKIA|ASIA)[A-Z0-9]{16} (?![A-Za-z0-9])"),
    _rule("AWS_KEY", r"""(?<![A-Za-z0-9]) (?i:aws_secret_access_key) ["']?\s{0,5}[=:]\s{0,5}["']?
          (?P<secret>[A-Za-z0-9/+]{40}) (?![A-Za-z0-9/+=])"""),
    _rule("IBAN", r"""(?<![\w-]) [A-Z]{2}\d{2} (?:\ ?[A-Z0-9]{4}){2,7} (?:\ ?[A-Z0-9]{1,3})?
          (?!\w)""", _iban_length),
    # Not a fraction ("0.4111...") and not followed by more number: a card inside a
    # longer number is not a card. An expiry or a CSV comma after it is fine.
    _rule("CARD", r"""(?<![\w-])(?<!\d\.)
          (?: \d{4}(?P<sep>[ -])\d{4}(?P=sep)\d{4}(?P=sep)\d{4}
            | \d{4}(?P<amex>[ -])\d{6}(?P=amex)\d{4,5}
            | \d{13,19} )
          (?!\w|[-.]\d)""", _only(_card)),
    _rule("EMAIL", r"""(?<![\w.%+-])(?<!://) [A-Za-z0-9_][A-Za-z0-9._%+-]{0,63}+ @(?![1-9]x\.)
          (?:[A-Za-z0-9-]{1,63}+\.){1,8} [A-Za-z]{2,63} (?!\w|:[\w/])"""),
    _rule("PHONE", r"""(?<![\w+]) \+
          (?: [1-9]\d{7,14}+
            | [1-9]\d{0,3}+ (?:[ .-]?\(\d{1,4}+\)[ .-]?\d{1,6}+)?+ (?:[ .-]\d{1,6}+){0,6}+ )
          (?!\d|[.-]\d)""", _phone_length),
    _rule("PHONE", r"""(?<![\w.+-]) (?:1[-. ])?
          (?: \([2-9]\d\d\)\ ? | [2-9]\d\d(?P<sep>[-. ]) ) [2-9]\d\d (?(sep)(?P=sep)|[-. ]) \d{4}
          (?!\d|[.-]\d)"""),
    _rule("PHONE", r"(?<![\w.+-]) 0[1-9]\d{1,3} [ -]\d{3,6} (?:[ -]\d{3,4})? (?!\d|[.-]\d)",
          _phone_length),
)  # fmt: skip


class Redactor:
    """Finds sensitive values in text and replaces them by `[KIND]` placeholders.

    Args:
        enabled: when False, `redact()` returns text unchanged and `findings()` is empty.
        extra_patterns: the operator's own `{"KIND": "regex"}` rules, applied after the
            built-in ones to text they left. If a pattern has a group named `secret`,
            only that group is replaced.

    Raises:
        ConfigError: a kind is not an upper-case name, or its pattern does not compile or
            matches empty text; the message names the kind.
    """

    def __init__(
        self, *, enabled: bool = True, extra_patterns: dict[str, str] | None = None
    ) -> None:
        self.enabled = enabled
        extras = tuple(_operator_rule(k, p) for k, p in (extra_patterns or {}).items())
        self._rules = _BUILT_IN + extras
        kinds = sorted({rule.kind for rule in self._rules})
        self._placeholder = re.compile(r"\[(?:%s)\]" % "|".join(kinds))  # noqa: UP031

    def findings(self, text: str) -> list[Finding]:
        """The sensitive values in `text`, in order and never overlapping."""
        if not self.enabled:
            return []
        # Existing placeholders are claimed up front but not reported: idempotence.
        work = self._placeholder.sub(lambda m: _MASK * len(m[0]), text.replace(_MASK, "\x01"))
        found: list[Finding] = []
        # A claimed value can free its glued neighbour ("555-0132AKIA..."): look again
        # until nothing new turns up, so that redacting twice changes nothing more.
        for _ in range(_MAX_ROUNDS):
            before = len(found)
            for rule in self._rules:
                if claimed := list(rule.scan(work)):
                    found += claimed
                    work = _mask(work, claimed)
            if len(found) == before:
                break
        return sorted(found, key=lambda f: f.start)

    def redact(self, text: str) -> str:
        """`text` with every finding replaced by its `[KIND]` placeholder."""
        parts, position = [], 0
        for finding in self.findings(text):
            parts += [text[position : finding.start], f"[{finding.kind}]"]
            position = finding.end
        parts.append(text[position:])
        return "".join(parts)


def _operator_rule(kind: str, pattern: str) -> _Rule:
    if not _KIND_NAME.fullmatch(kind):
        raise ConfigError(f"redaction pattern {kind!r}: the kind must be an UPPER_CASE name")
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"redaction pattern {kind}: not a valid regex ({exc})") from None
    if compiled.fullmatch(""):
        raise ConfigError(f"redaction pattern {kind}: it must not match empty text")
    return _Rule(kind, compiled)


def _mask(work: str, claimed: list[Finding]) -> str:
    # One rebuild per rule, not per finding: thousands of findings stay linear.
    parts, position = [], 0
    for finding in claimed:
        parts += [work[position : finding.start], _MASK * (finding.end - finding.start)]
        position = finding.end
    parts.append(work[position:])
    return "".join(parts)


_DEFAULT = Redactor()


def redact(text: str) -> str:
    """`text` redacted by the built-in rules (a default `Redactor()`)."""
    return _DEFAULT.redact(text)


class RedactingFilter(logging.Filter):
    """Scrubs log records so no emitted line carries a sensitive value.

    The message is rendered and redacted; when something was found, the record keeps
    the redacted text as `msg` and drops `args`, which also catches values split across
    arguments or hidden in an object's `str()`. Clean records pass untouched.
    Tracebacks (`exc_info`) are not scrubbed.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redactor = redactor or _DEFAULT

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact `record` in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: scrub the parts, the handler reports it
            _scrub_parts(record, self._redactor.redact)
            return True
        redacted = self._redactor.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def _scrub_parts(record: logging.LogRecord, scrub: Callable[[str], str]) -> None:
    def one(value: object) -> object:
        return scrub(value) if isinstance(value, str) else value

    record.msg = one(record.msg)
    if isinstance(record.args, Mapping):
        record.args = {key: one(value) for key, value in record.args.items()}
    elif isinstance(record.args, tuple):
        record.args = tuple(one(arg) for arg in record.args)
