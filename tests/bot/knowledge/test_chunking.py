"""Chunks: sized for retrieval, true to their headings, code kept whole."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bot.knowledge.chunking import chunk_document
from bot.knowledge.documents import Chunk, Document, Section
from bot.knowledge.sources import read_path

KB = Path(__file__).parents[2] / "fixtures" / "kb"


def _sentences(count: int, topic: str = "refund") -> str:
    """Distinct, countable sentences of eleven words each."""
    return " ".join(
        f"Sentence {topic} {n} says the {topic} policy applies to plan {n}." for n in range(count)
    )


def _paragraphs(count: int, sentences: int = 6, topic: str = "refund") -> str:
    return "\n\n".join(_sentences(sentences, f"{topic}{p}") for p in range(count))


def _words(chunk: Chunk) -> int:
    return len(chunk.text.split())


def _doc(*sections: tuple[tuple[str, ...], str]) -> Document:
    return Document("a.md", "The Title", tuple(Section(h, t) for h, t in sections))


def test_a_document_without_text_has_no_chunks() -> None:
    assert chunk_document(_doc()) == []
    assert chunk_document(_doc((("A",), "  \n\n "))) == []


def test_a_tiny_document_is_one_chunk_without_its_title() -> None:
    [chunk] = chunk_document(_doc((("Setup",), "Install the app.")))
    assert chunk == Chunk(0, ("Setup",), "Install the app.")
    assert "The Title" not in chunk.text


def test_small_sections_merge_under_their_shared_heading_keeping_subheadings() -> None:
    document = _doc(
        ((), "Welcome."),
        (("Billing",), "How billing works."),
        (("Billing", "Refunds"), "Refunds take 14 days."),
        (("Billing", "Refunds", "Partial"), "Partial refunds are pro rata."),
        (("Billing", "Invoices"), "Invoices are emailed."),
    )
    [chunk] = chunk_document(document)
    assert chunk.headings == ("Billing",)
    assert chunk.text == (
        "Welcome.\n\nHow billing works.\n\nRefunds\n\nRefunds take 14 days.\n\n"
        "Refunds › Partial\n\nPartial refunds are pro rata.\n\nInvoices\n\nInvoices are emailed."
    )


def test_sibling_sections_merge_under_their_common_prefix() -> None:
    document = _doc((("Billing", "Refunds"), "Refund text."), (("Billing", "Tax"), "Tax text."))
    [chunk] = chunk_document(document)
    assert (chunk.headings, chunk.text) == (
        ("Billing",),
        "Refunds\n\nRefund text.\n\nTax\n\nTax text.",
    )


def test_no_chunk_crosses_top_level_sections() -> None:
    document = _doc(
        (("Billing",), "Billing text."),
        (("Billing", "Refunds"), "Refund text."),
        (("Accounts",), "Account text."),
        (("Accounts", "Passwords"), "Password text."),
        (("Billing",), "Billing again, after Accounts."),
    )
    chunks = chunk_document(document)
    assert [c.headings for c in chunks] == [("Billing",), ("Accounts",), ("Billing",)]
    assert "Account" not in chunks[0].text
    assert "Billing" not in chunks[1].text


def test_a_long_section_is_split_at_paragraphs_within_bounds() -> None:
    document = _doc((("Guide", "Refunds"), _paragraphs(30)))  # 30 x 66 = 1980 words
    chunks = chunk_document(document)
    assert len(chunks) >= 4
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert {c.headings for c in chunks} == {("Guide", "Refunds")}
    assert all(200 <= _words(c) <= 500 for c in chunks)
    # Apart from the words carried over, each chunk ends where a paragraph ends.
    assert all(c.text.endswith("plan 5.") for c in chunks)


def test_each_piece_of_a_split_section_starts_with_the_end_of_the_one_before() -> None:
    chunks = chunk_document(_doc((("Guide",), _paragraphs(30))), overlap_words=40)
    for before, after in itertools.pairwise(chunks):
        assert after.text.split()[:40] == before.text.split()[-40:]


def test_without_overlap_nothing_is_repeated() -> None:
    chunks = chunk_document(_doc((("Guide",), _paragraphs(30))), overlap_words=0)
    words = [word for chunk in chunks for word in chunk.text.split()]
    assert words == _paragraphs(30).split()


def test_a_paragraph_too_long_for_a_chunk_is_split_between_sentences() -> None:
    chunks = chunk_document(_doc((("Guide",), _sentences(120))))  # 1320 words, no blank line
    assert len(chunks) >= 3
    assert all(_words(c) <= 500 for c in chunks)
    assert all(c.text.endswith(".") for c in chunks)
    assert chunks[1].text.split()[:40] == chunks[0].text.split()[-40:]


def test_text_without_any_break_is_still_cut_within_bounds() -> None:
    chunks = chunk_document(_doc(((), "word " * 1200)))
    assert all(_words(c) <= 500 for c in chunks)
    assert sum(_words(c) for c in chunks) == 1200 + 40 * (len(chunks) - 1)


def test_a_code_block_is_never_split_even_in_a_long_section() -> None:
    code = (
        "```python\n"
        + "\n".join(f"total = total + item_{n}  # add it" for n in range(80))
        + "\n```"
    )
    text = f"{_paragraphs(5)}\n\n{code}\n\n{_paragraphs(5, topic='tax')}"
    chunks = chunk_document(_doc((("Guide",), text)))
    holding = [c for c in chunks if "```python" in c.text]
    assert len(holding) == 1
    assert code in holding[0].text
    assert not [c for c in chunks if "item_40" in c.text and c is not holding[0]]


def test_a_code_block_over_twice_the_limit_is_split_at_lines_each_piece_fenced() -> None:
    lines = [f"step_{n} = run(step_{n - 1})  # one more" for n in range(300)]  # 1500 words
    code = "```python\n" + "\n".join(lines) + "\n```"
    chunks = chunk_document(_doc((("Script",), code)))
    assert len(chunks) >= 4
    for chunk in chunks:
        assert chunk.text.startswith("```python\n")
        assert chunk.text.endswith("\n```")
        assert _words(chunk) <= 500
    body = [line for c in chunks for line in c.text.split("\n")[1:-1]]
    assert body == lines


def test_a_small_last_section_joins_the_one_before_while_within_the_limit() -> None:
    big = _paragraphs(7)  # 462 words: over the target, so it is not topped up ...
    joined = chunk_document(_doc((("A",), big), (("A", "B"), "Short.")))
    # ... but a 2-word remainder is not worth a chunk of its own.
    assert [(c.headings, _words(c)) for c in joined] == [(("A",), 464)]
    apart = chunk_document(_doc((("A",), big), (("A", "B"), _sentences(4))))
    assert [(c.headings, _words(c)) for c in apart] == [(("A",), 462), (("A", "B"), 44)]


def test_fixture_docs_chunk_into_one_piece_per_top_heading() -> None:
    documents = {d.location: d for d in read_path(KB)}
    billing = chunk_document(documents["billing.md"])
    assert [c.headings for c in billing] == [("Billing",), ("Invoices",)]
    assert "```bash\n# Not a heading: a comment inside a code block" in billing[0].text
    assert "Billing: plans & refunds" not in billing[0].text
    pdf = chunk_document(documents["manual.pdf"])
    assert [c.headings for c in pdf] == [("Page 1",), ("Page 2",)]


@pytest.mark.parametrize(
    "limits",
    [
        {"target_words": 600, "max_words": 500},
        {"min_words": 400},
        {"overlap_words": 350},
        {"min_words": -1},
    ],
)
def test_contradictory_limits_are_refused(limits: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="expected"):
        chunk_document(_doc((("A",), "text")), **limits)
