"""What prompt templates can use: the Jinja environment, its filters and helpers.

Templates get the workspace's `taxonomy` and `product`; the wording that needs a
little logic (a list joined with "or", the example verdict) lives here as small pure
functions, so the templates stay readable and the wording can be tested directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from jinja2 import Environment, StrictUndefined

from bot.config.product import Product
from bot.config.taxonomy import Taxonomy

__all__ = ["prompt_environment"]


def prompt_environment() -> Environment:
    """Jinja as prompts need it: an unknown name is an error, not an empty string;
    no HTML escaping; block tags on their own lines leave no blank lines behind."""
    environment = Environment(
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 (prompts are plain text, never HTML)
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        quoted=_quoted, quoted_list=_quoted_list, sentence=_sentence, clause=_clause
    )
    environment.globals.update(
        product_phrase=_product_phrase,
        language_rule=_language_rule,
        example_verdict=_example_verdict,
        always_human=_always_human,
    )
    return environment


def _quoted(text: str) -> str:
    """A JSON string: quoted, newlines escaped, non-ASCII kept readable."""
    return json.dumps(text, ensure_ascii=False)


def _quoted_list(items: Iterable[str]) -> str:
    """`"a", "b", "c"`."""
    return ", ".join(_quoted(item) for item in items)


def _clause(text: str) -> str:
    """Text to go inside a sentence: without its closing full stop."""
    return text.strip().rstrip(".").rstrip()


def _sentence(text: str) -> str:
    """Text that ends like a sentence (a full stop added when it has none)."""
    text = text.strip()
    return text if text.endswith((".", "!", "?", ":")) else f"{text}."


def _product_phrase(product: Product) -> str:
    """ "Acme Cloud, a file-sharing service" or, without a name, the description."""
    description = _clause(product.description)
    return f"{product.name}, {description}" if product.name else description


def _joined(items: Iterable[str], conjunction: str) -> str:
    """`a, b and c` (or `a, b or c`)."""
    *head, last = items
    return f"{', '.join(head)} {conjunction} {last}" if head else last


def _always_human(taxonomy: Taxonomy) -> str:
    """The sentence naming the categories that always need a person ("" when none do)."""
    names = [_quoted(c.name) for c in taxonomy.categories if c.needs_human]
    if not names:
        return ""
    which = "category" if len(names) == 1 else "categories"
    return f"Always true for a ticket in the {which} {_joined(names, 'and')}."


def _language_rule(product: Product) -> str:
    """The sentence saying which language to answer in."""
    languages = product.languages
    if not languages:
        return "Answer in the language the user wrote in."
    if len(languages) == 1:
        return f"Answer in {languages[0]}, whatever language the user wrote in."
    return (
        f"Answer in the language the user wrote in when it is {_joined(languages, 'or')}; "
        f"otherwise answer in {languages[0]}."
    )


# The default taxonomy's example is triage.v2's, so the default prompt reads as before.
_BILLING_EXAMPLE = {
    "category": "billing",
    "urgency": "medium",
    "summary": "Customer was charged for a seat they removed last month and asks for a correction.",
    "needs_human": True,
    "confidence": 0.86,
    "search_queries": ["remove seat billing correction", "prorated charge after removing a seat"],
}


def _example_verdict(taxonomy: Taxonomy) -> str:
    """One example verdict, as a JSON line, using a category of this taxonomy."""
    if "billing" in taxonomy.names:
        return json.dumps(_BILLING_EXAMPLE, ensure_ascii=False)
    first = taxonomy.categories[0]
    example = {
        "category": first.name,
        "urgency": "medium",
        "summary": "User describes a problem they ran into and asks how to get past it.",
        "needs_human": first.needs_human,
        "confidence": 0.86,
        "search_queries": [" ".join([*first.name.split("_")[:3], "troubleshooting"])],
    }
    return json.dumps(example, ensure_ascii=False)
