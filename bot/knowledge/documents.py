"""What the knowledge base is made of: documents read from a source, their sections
(text under one heading path), and the chunks that are indexed and retrieved."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Chunk", "Document", "DocumentKind", "Section", "content_hash"]


class DocumentKind(StrEnum):
    """Where a document came from."""

    DOCS = "docs"
    """The team's documentation: files, pages, PDFs."""
    TICKET = "ticket"
    """A question and answer a lead saved from a resolved ticket."""


@dataclass(frozen=True)
class Section:
    """The text under one heading path, in document order."""

    headings: tuple[str, ...]
    """The heading path, outermost first (`("Billing", "Refunds")`); empty for text
    before the first heading."""
    text: str
    """Plain text; fenced code blocks kept with their fences (```), never split inside."""


@dataclass(frozen=True)
class Document:
    """One page, file or saved answer, parsed into sections."""

    location: str
    """The path relative to the folder given (`guides/setup.md`) or the page's URL."""
    title: str
    sections: tuple[Section, ...]
    url: str | None = None
    """A link a person can open (the page, or the file under `--base-url`)."""
    kind: DocumentKind = DocumentKind.DOCS
    hash: str = field(default="")
    """sha256 of the title and sections; unchanged content is not re-indexed."""

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", content_hash(self.title, self.sections))


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a document: about 200-500 words under one heading path."""

    ordinal: int
    """Position in its document, from 0."""
    headings: tuple[str, ...]
    text: str

    @property
    def heading(self) -> str:
        """The heading path as people read it: `Billing › Refunds`."""  # noqa: RUF002
        return " › ".join(self.headings)


def content_hash(title: str, sections: tuple[Section, ...]) -> str:
    """A stable digest of what a document says."""
    digest = hashlib.sha256(title.encode())
    for section in sections:
        digest.update(b"\x00" + "\x1f".join(section.headings).encode() + b"\x00")
        digest.update(section.text.encode())
    return digest.hexdigest()
