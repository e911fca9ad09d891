"""Reading docs from files and folders: what each format becomes, and what is skipped."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.knowledge.documents import Document
from bot.knowledge.html import parse_html
from bot.knowledge.sources import SourceError, doc_url, read_path, read_source

KB = Path(__file__).parents[2] / "fixtures" / "kb"


def _pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A minimal PDF written by hand: Helvetica text, one content stream per page."""
    kids = " ".join(f"{5 + 2 * i} 0 R" for i in range(len(pages)))
    info = f"<< /Title ({title}) >>" if title else "<< /Producer (tests) >>"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        info,
    ]
    for index, lines in enumerate(pages):
        stream = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({t}) Tj T*" for t in lines) + " ET"
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {6 + 2 * index} 0 R >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out, offsets = "%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n"
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R >>\n"
    return f"{out}startxref\n{xref}\n%%EOF\n".encode()


@pytest.fixture(scope="module")
def docs() -> dict[str, Document]:
    return {d.location: d for d in read_path(KB, base_url="https://docs.acme.example/")}


def _section(document: Document, *headings: str) -> str:
    return next(s.text for s in document.sections if s.headings == headings)


# --- Folders --------------------------------------------------------------------


def test_a_folder_is_read_recursively_in_order_without_hidden_or_unsupported_files() -> None:
    locations = [document.location for document in read_path(KB)]
    assert locations == [
        "billing.md",
        "guides/reference.rst",
        "guides/setup.mdx",
        "index.md",
        "manual.pdf",
        "notes.txt",
        "page.html",
    ]


def test_without_a_base_url_documents_have_no_link() -> None:
    assert {document.url for document in read_path(KB)} == {None}


def test_documents_link_to_their_published_pages(docs: dict[str, Document]) -> None:
    assert docs["billing.md"].url == "https://docs.acme.example/billing"
    assert docs["guides/setup.mdx"].url == "https://docs.acme.example/guides/setup"
    assert docs["index.md"].url == "https://docs.acme.example/"


@pytest.mark.parametrize(
    ("base", "relative", "expected"),
    [
        ("https://d.example", "guides/setup.md", "https://d.example/guides/setup"),
        ("https://d.example/", "guides/setup.md", "https://d.example/guides/setup"),
        ("https://d.example/docs/", "guides/index.md", "https://d.example/docs/guides/"),
        ("https://d.example/docs", "index.mdx", "https://d.example/docs/"),
        ("https://d.example", "guides/first steps.rst", "https://d.example/guides/first%20steps"),
        ("https://d.example", "release.notes.txt", "https://d.example/release.notes"),
    ],
)
def test_doc_url_follows_the_docs_site_convention(base: str, relative: str, expected: str) -> None:
    assert doc_url(base, relative) == expected


def test_a_single_file_is_located_by_its_name(tmp_path: Path) -> None:
    (tmp_path / "faq.md").write_text("# FAQ\n\nAsk us anything.\n")
    [document] = read_path(tmp_path / "faq.md", base_url="https://d.example")
    assert (document.location, document.url) == ("faq.md", "https://d.example/faq")


def test_empty_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "blank.md").write_text("---\ntitle: Nothing yet\n---\n\n   \n")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "real.txt").write_text("Real\n\nSomething to read.\n")
    assert [document.location for document in read_path(tmp_path)] == ["real.txt"]
    assert read_path(tmp_path / "blank.md") == []


def test_a_file_that_is_not_utf8_is_read_with_replacements_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "legacy.txt").write_bytes("Café hours\n\nWe open at nine.\n".encode("latin-1"))
    with caplog.at_level(logging.WARNING):
        [document] = read_path(tmp_path)
    assert document.title == "Caf\ufffd hours"
    assert [r.levelno for r in caplog.records if "legacy.txt" in r.getMessage()] == [
        logging.WARNING
    ]


def test_a_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"^no such file or folder: .*nowhere$"):
        read_path(tmp_path / "nowhere")


def test_a_single_unsupported_file_is_a_source_error() -> None:
    with pytest.raises(SourceError, match=r"logo\.png: unsupported file type \.png"):
        read_path(KB / "logo.png")


async def test_read_source_reads_paths_with_the_home_folder_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\nText.\n")
    documents = await read_source("~/docs", base_url="https://d.example")
    assert [(d.location, d.url) for d in documents] == [("a.md", "https://d.example/a")]


async def test_read_source_names_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        await read_source(str(tmp_path / "missing"))
    assert str(caught.value) == f"no such file or folder: {tmp_path / 'missing'}"


# --- Markdown and MDX -----------------------------------------------------------


def test_markdown_title_comes_from_quoted_front_matter(docs: dict[str, Document]) -> None:
    assert docs["billing.md"].title == "Billing: plans & refunds"
    assert docs["index.md"].title == "Acme Help Centre"


def test_markdown_headings_make_a_path_and_code_comments_are_not_headings(
    docs: dict[str, Document],
) -> None:
    assert [s.headings for s in docs["billing.md"].sections] == [
        ("Billing",),
        ("Billing", "Refunds"),
        ("Billing", "Refunds", "Partial refunds"),
        ("Invoices",),
    ]
    assert "```bash\n# Not a heading: a comment inside a code block\nacme refunds create" in (
        _section(docs["billing.md"], "Billing", "Refunds")
    )


def test_markdown_noise_is_stripped(docs: dict[str, Document]) -> None:
    text = _section(docs["billing.md"], "Billing")
    assert text == (
        "Acme bills every workspace monthly. See the pricing page\nfor current prices."
        "\n\nInvoice screenshot"
    )


def test_markdown_title_falls_back_to_the_first_h1_then_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("Intro.\n\n# Real title\n\nBody.\n")
    (tmp_path / "getting-started_fast.md").write_text("## Only a subheading\n\nBody.\n")
    titles = [document.title for document in read_path(tmp_path)]
    assert titles == ["Real title", "Getting started fast"]


def test_markdown_tilde_fences_and_unclosed_fences_stay_code(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# A\n\n~~~\n# kept\n~~~\n\n## B\n\n```\n# also kept\n")
    [document] = read_path(tmp_path / "a.md")
    assert [(s.headings, s.text) for s in document.sections] == [
        (("A",), "~~~\n# kept\n~~~"),
        (("A", "B"), "```\n# also kept"),
    ]


def test_mdx_statements_and_components_are_dropped_but_their_text_kept(
    docs: dict[str, Document],
) -> None:
    setup = docs["guides/setup.mdx"]
    assert setup.title == "Setting up Acme"
    assert _section(setup, "Setting up Acme") == (
        "Install Acme with Homebrew: `brew install acme`.\n\n"
        "Download the package from the releases page."
    )
    assert _section(setup, "Setting up Acme", "Connecting Slack").startswith(
        "You need to be a Slack admin.\n\n"
    )
    assert "import" not in setup.sections[0].text


# --- reStructuredText, text, HTML, PDF --------------------------------------------


def test_rst_heading_levels_follow_the_order_adornments_appear(docs: dict[str, Document]) -> None:
    reference = docs["guides/reference.rst"]
    assert reference.title == "API reference"
    assert [s.headings for s in reference.sections] == [
        ("API reference",),
        ("API reference", "Authentication"),
        ("API reference", "Authentication", "Rate limits"),
        ("API reference", "Errors"),
    ]
    assert _section(reference, "API reference") == (
        "The Acme API speaks JSON over HTTPS. See the changelog."
    )


def test_rst_directives_keep_their_content_and_literal_blocks_become_code(
    docs: dict[str, Document],
) -> None:
    reference = docs["guides/reference.rst"]
    assert _section(reference, "API reference", "Authentication") == (
        "Tokens expire after 30 days.\n\nRotate them from the admin console.\n\n"
        "Send the token in a header:\n\n```\nAuthorization: Bearer TOKEN\n```"
    )
    assert _section(reference, "API reference", "Authentication", "Rate limits") == (
        "```python\nimport time\ntime.sleep(1)\n```\n\nClients may send 10 requests a second."
    )


def test_plain_text_is_titled_by_a_short_first_line(docs: dict[str, Document]) -> None:
    notes = docs["notes.txt"]
    assert notes.title == "Support rota notes"
    assert [s.headings for s in notes.sections] == [()]
    assert notes.sections[0].text.startswith("The on-call lead answers escalations")


def test_plain_text_with_a_long_first_line_is_titled_by_its_file_name(tmp_path: Path) -> None:
    (tmp_path / "on_call.txt").write_text("word " * 30 + "\n")
    [document] = read_path(tmp_path)
    assert document.title == "On call"
    assert document.sections[0].text == ("word " * 30).strip()


def test_html_reads_only_the_main_content(docs: dict[str, Document]) -> None:
    page = docs["page.html"]
    assert page.title == "Troubleshooting & FAQ"
    assert [s.headings for s in page.sections] == [
        ("Troubleshooting",),
        ("Troubleshooting", "Error codes"),
    ]
    everything = "\n".join(s.text for s in page.sections)
    for chrome in ("Home", "site header", "tracking", "color", "Related", "Acme\n"):
        assert chrome not in everything
    assert page.sections[0].text == "If the bot does not answer, check its status page."


def test_html_lists_and_preformatted_code(docs: dict[str, Document]) -> None:
    assert _section(docs["page.html"], "Troubleshooting", "Error codes") == (
        "- E1: the token expired\n\n- E2: the workspace is suspended\n\n"
        '```python\ndef retry():\n    return "again"  # <- entities decoded\n```'
    )


def test_html_without_main_reads_the_body_and_takes_the_h1_as_title() -> None:
    html = (
        "<body><nav>Menu</nav><h1>Plans</h1><p>Free&nbsp;and Pro.</p>"
        "<table><tr><td>Pro</td><td>10 GB</td></tr></table><h3>Limits</h3>"
        "<blockquote>Fair use applies.</blockquote><dl><dt>Seat</dt><dd>One person</dd></dl>"
        "</body>"
    )
    page = parse_html(html, location="https://d.example/plans/", url=None)
    assert page.title == "Plans"
    assert [(s.headings, s.text) for s in page.sections] == [
        (("Plans",), "Free and Pro.\n\nPro\n\n10 GB"),  # &nbsp; is whitespace too
        (("Plans", "Limits"), "Fair use applies.\n\nSeat\n\nOne person"),
    ]


def test_html_without_title_or_h1_is_titled_by_its_location() -> None:
    page = parse_html(
        "<p>Text</p>", location="https://d.example/how-to/reset-password.html", url=None
    )
    assert page.title == "Reset password"


def test_the_fixture_pdf_is_valid_and_pypdf_reads_its_text() -> None:
    reader = PdfReader(KB / "manual.pdf", strict=True)
    assert reader.metadata is not None
    assert reader.metadata.title == "Acme Admin Manual"
    assert "Deleting a workspace is permanent." in reader.pages[1].extract_text()


def test_a_pdf_has_one_section_per_page(docs: dict[str, Document]) -> None:
    manual = docs["manual.pdf"]
    assert manual.title == "Acme Admin Manual"
    assert [(s.headings, s.text) for s in manual.sections] == [
        (("Page 1",), "Acme admin manual\nWorkspaces are created by an owner."),
        (("Page 2",), "Deleting a workspace is permanent."),
    ]


def test_a_pdf_without_a_title_is_titled_by_its_first_line(tmp_path: Path) -> None:
    (tmp_path / "guide.pdf").write_bytes(_pdf([["Quick start", "Sign in."], []]))
    [document] = read_path(tmp_path / "guide.pdf")
    assert document.title == "Quick start"
    assert [s.headings for s in document.sections] == [("Page 1",)]


def test_an_unreadable_pdf_is_a_source_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nsecret words, then garbage")
    with pytest.raises(SourceError) as caught:
        read_path(tmp_path / "broken.pdf")
    message = str(caught.value)
    assert "broken.pdf: not a readable PDF" in message
    assert "\n" not in message
    assert "secret words" not in message


def test_an_unreadable_file_in_a_folder_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"not a pdf at all")
    (tmp_path / "good.pdf").write_bytes(_pdf([["Good", "Readable text."]], title="Good one"))
    with caplog.at_level(logging.WARNING):
        documents = read_path(tmp_path)
    assert [(d.location, d.title) for d in documents] == [("good.pdf", "Good one")]
    assert any("broken.pdf" in r.getMessage() for r in caplog.records)
