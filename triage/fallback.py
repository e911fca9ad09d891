"""Offline, rule-based triage for when the model cannot be used.

Keywords and patterns give a rough category and urgency so the ticket still lands
in the right queue; the verdict is always handed to a person (`needs_human`) with a
low confidence, because rules cannot read intent the way the model can.
"""

from __future__ import annotations

import re

from bot.events import Category, Urgency
from triage.schema import SUMMARY_MAX_CHARS, TriageResult

__all__ = ["FALLBACK_CONFIDENCE", "classify_offline"]

FALLBACK_CONFIDENCE = 0.3
EMPTY_SUMMARY = "(empty message)"


def _patterns(*sources: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(source, re.IGNORECASE) for source in sources)


# Keyword tables read best dense, several patterns a line.
# fmt: off
# Order matters only for ties: the first category with the most matches wins.
_CATEGORY_PATTERNS: dict[Category, tuple[re.Pattern[str], ...]] = {
    Category.BILLING: _patterns(
        r"\binvoices?\b", r"\bcharg(e|ed|es|ing)\b", r"\brefunds?\b", r"\bpayments?\b",
        r"\bpaid\b", r"\b(credit )?cards?\b", r"\bsubscriptions?\b", r"\bpric(e|es|ing)\b",
        r"\bbill(ed|ing)?\b", r"\breceipts?\b", r"\b(vat|tax)\b", r"\bdowngrade\b",
        r"\bfactura\b", r"\brechnung\b", r"\bfacture\b", r"\brembourse", r"\breembolso\b",
    ),
    Category.ACCOUNT: _patterns(
        r"\blog ?in\b", r"\bsign ?in\b", r"\bpassword\b", r"\b2fa\b", r"\btwo[- ]factor\b",
        r"\blocked out\b", r"\bemail (address )?change\b", r"\bchange (my )?email\b",
        r"\bdelete (my )?account\b", r"\bclose (my )?account\b", r"\bsso\b", r"\bsaml\b",
        r"\busername\b", r"\baccess to (my|our) account\b", r"\bverification code\b",
        r"\bcontraseña\b", r"\bpasswort\b", r"\bmot de passe\b", r"\bkonto\b",
    ),
    Category.BUG: _patterns(
        r"\berrors?\b", r"\bcrash(es|ed|ing)?\b", r"\bbroken\b", r"\bexception\b",
        r"\b50[0-4]\b", r"\btraceback\b", r"\b(doesn'?t|does not|won'?t|isn'?t) work",
        r"\bnot working\b", r"\bbug\b", r"\bfail(s|ed|ing)?\b", r"\bblank (page|screen)\b",
        r"\bstuck\b", r"\bfreez(e|es|ing)\b", r"\bnothing happens\b", r"\boutage\b",
        r"\b(is|are|went|goes) down\b", r"\btimes? ?out\b", r"\bslow\b",
        r"\bno funciona\b", r"\bfunktioniert nicht\b", r"\bne marche pas\b", r"\berreur\b",
        r"\bfehler\b",
    ),
    Category.FEATURE_REQUEST: _patterns(
        r"\bwould be (nice|great|helpful)\b", r"\bfeature\b", r"\bcould you add\b",
        r"\bplease add\b", r"\bsupport for\b", r"\brequest\b", r"\bwish\b",
        r"\broadmap\b", r"\bintegrat(e|ion) with\b", r"\bany plans?\b", r"\bdark mode\b",
        r"\bsería (genial|útil)\b", r"\bwäre (schön|toll)\b",
    ),
}
_HIGH = _patterns(
    r"\boutage\b", r"\b(is|are|went|goes|was) down\b", r"\bdown for\b", r"\burgent(ly)?\b",
    r"\basap\b", r"\bproduction\b", r"\bprod\b", r"\bdata loss\b",
    r"\blost (all )?(our |my )?data\b",
    r"\bsecurity\b", r"\bbreach\b", r"\bhacked\b", r"\bvulnerab", r"\ball (of our )?users\b",
    r"\beveryone\b", r"\bcharged twice\b", r"\bdouble[- ]charged\b", r"\bcritical\b",
    r"\bemergency\b", r"\blawyer\b", r"\blegal action\b", r"\bgdpr\b", r"\bdringend\b",
    r"\burgente\b",
)
_LOW = _patterns(
    r"\bquestion\b", r"\bcurious\b", r"\bwhen you have time\b", r"\bsuggestion\b",
    r"\bno rush\b", r"\bwondering\b", r"\bjust fyi\b", r"\bwould be nice\b",
    r"\bnot urgent\b", r"\bwhenever\b",
)
# fmt: on
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def _category(text: str) -> Category:
    best, best_score = Category.OTHER, 0
    for category, patterns in _CATEGORY_PATTERNS.items():
        score = sum(1 for pattern in patterns if pattern.search(text))
        if score > best_score:
            best, best_score = category, score
    return best


def _urgency(text: str) -> Urgency:
    # "not urgent" must not count as urgent, so low is checked before high.
    if re.search(r"\bnot urgent\b", text, re.IGNORECASE):
        return Urgency.LOW
    if any(pattern.search(text) for pattern in _HIGH):
        return Urgency.HIGH
    if any(pattern.search(text) for pattern in _LOW):
        return Urgency.LOW
    return Urgency.MEDIUM


def _summary(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if not line:
        return EMPTY_SUMMARY
    sentence = " ".join(_SENTENCE_END.split(line, maxsplit=1)[0].split())
    if len(sentence) > SUMMARY_MAX_CHARS:
        sentence = sentence[: SUMMARY_MAX_CHARS - 1].rstrip() + "…"
    return sentence


def classify_offline(text: str) -> TriageResult:
    """Classify a ticket with keyword rules, without any network call.

    Args:
        text: the ticket text.

    Returns:
        A deterministic verdict with `needs_human=True` and confidence 0.3; the
        summary is the first sentence of the first non-blank line.
    """
    return TriageResult(
        category=_category(text),
        urgency=_urgency(text),
        summary=_summary(text),
        needs_human=True,
        confidence=FALLBACK_CONFIDENCE,
    )
