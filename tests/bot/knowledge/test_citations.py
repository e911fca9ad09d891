"""Numbered sources and the citations an answer may keep."""

from __future__ import annotations

from bot.knowledge.citations import cite, number_sources
from bot.knowledge.retrieval import Hit, fuse


def _hit(chunk_id: int, location: str, tokens: int = 100, url: str | None = None) -> Hit:
    return Hit(
        chunk_id=chunk_id,
        location=location,
        title=location.removesuffix(".md").title(),
        heading="Section",
        url=url,
        text=f"passage {chunk_id}",
        score=0.9,
        tokens=tokens,
    )


def test_passages_of_one_page_share_its_number() -> None:
    sources = number_sources(
        [_hit(1, "billing.md"), _hit(2, "login.md"), _hit(3, "billing.md")], 1000
    )
    assert [(s.number, [h.chunk_id for h in s.hits]) for s in sources] == [(1, [1, 3]), (2, [2])]


def test_passages_past_the_token_budget_are_left_out_but_the_best_stays() -> None:
    sources = number_sources(
        [_hit(1, "a.md", 900), _hit(2, "b.md", 200), _hit(3, "c.md", 50)], 1000
    )
    assert [s.hits[0].chunk_id for s in sources] == [1, 3]
    assert [s.number for s in number_sources([_hit(1, "a.md", 5000)], 1000)] == [1]


def test_only_citations_of_given_numbers_survive() -> None:
    sources = number_sources([_hit(1, "billing.md", url="https://d/b"), _hit(2, "login.md")], 1000)
    text, links = cite(
        "Refunds take 5 days [1]. Reset it under Settings [2][7]. Also [9].", sources
    )
    assert text == "Refunds take 5 days [1]. Reset it under Settings [2]. Also."
    assert [(link.number, link.title, link.url) for link in links] == [
        (1, "Billing", "https://d/b"),
        (2, "Login", None),
    ]


def test_grouped_citations_are_split_and_filtered() -> None:
    sources = number_sources([_hit(1, "a.md"), _hit(2, "b.md")], 1000)
    text, links = cite("Both say so [1, 2, 5].", sources)
    assert text == "Both say so [1][2]."
    assert [link.number for link in links] == [1, 2]


def test_an_answer_citing_nothing_lists_nothing() -> None:
    sources = number_sources([_hit(1, "a.md")], 1000)
    assert cite("No citation here; see [the docs].", sources) == (
        "No citation here; see [the docs].",
        (),
    )


def test_fusion_rewards_agreement_and_scales_to_one() -> None:
    scores = fuse([[1, 2, 3], [1, 3], [3]])
    assert scores[3] > scores[1] > scores[2]  # in every list beats first in two
    assert abs(fuse([[5], [5]])[5] - 1.0) < 1e-9
    assert fuse([]) == {}
