"""Every word the staff app shows is ready for translation: the templates say it through
`{% translate %}` or `{% blocktranslate %}`, and the web layer's messages through gettext.

The check reads each template as a translator's tool would: what is left once the
translated blocks, template tags, variables, scripts and code samples are taken out must hold
no words, in the text between tags or in the attributes people read (titles, placeholders,
labels for screen readers, confirmation texts).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import ordersight

SOURCE = Path(ordersight.__file__).parent
TEMPLATES = sorted((SOURCE / "web" / "templates").rglob("*.html"))
WEB_MODULES = sorted((SOURCE / "web").glob("*.py"))

# Names that are the same in every language, and the parts of examples of what to type.
NOT_LANGUAGE = {"ordersight", "CSV", "API", "JSON", "SKU", "ID", "ANNA", "anna", "ig"}

_DROPPED = [
    re.compile(r"\{#.*?#\}", re.S),
    re.compile(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S),
    re.compile(r"\{%\s*blocktranslate\b.*?\{%\s*endblocktranslate\s*%\}", re.S),
    re.compile(r"<(script|style|code|pre|svg)\b.*?</\1>", re.S),
]
_TAGS = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
_READ_ATTRIBUTES = re.compile(
    r"""\s(placeholder|title|aria-label|alt|data-confirm|data-confirm-detail|"""
    r"""data-confirm-button|data-confirm-label|data-reason-label|data-label)=("[^"]*"|'[^']*')""",
    re.S,
)
# Text handed to an included partial as a tag's argument (`label="Name"`) is shown too.
_SHOWN_ARGUMENTS = re.compile(
    r"""\b(label|help|placeholder|title|hint|action_label|note)=("[^"]*"|'[^']*')"""
)
_HTML_TAG = re.compile(r"<[^>]*>", re.S)
_ENTITY = re.compile(r"&[a-z]+;|&#\d+;")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Markup a block hands to a tag of its parent (`{% block live %}hx-ext="sse" …`): attributes
# and a URL's query, not words.
_MARKUP = re.compile(r"""[\w:-]+=("[^"]*("|$)|'[^']*('|$))|[?&]\w+=""")


def _words(text: str) -> str:
    text = _MARKUP.sub(" ", _ENTITY.sub(" ", _TAGS.sub(" ", text)))
    text = " ".join(text.split())
    if all(word in NOT_LANGUAGE for word in _WORD.findall(text)):
        return ""
    return text


def untranslated(source: str) -> list[str]:
    """The words a template shows without passing them through translation."""
    for pattern in _DROPPED:
        source = pattern.sub(" ", source)
    found = [
        f"{name}={words!r} (in a tag)"
        for tag in _TAGS.findall(source)
        for name, value in _SHOWN_ARGUMENTS.findall(tag)
        if (words := _words(value[1:-1]))
    ]
    # Template tags and variables become a break first, so `title="{% translate "X" %}"`
    # reads as an attribute holding no words and `<a {% if x %}…{% endif %}>` as one tag.
    source = _TAGS.sub("\n", source)
    found += [
        f"{name}={words!r}"
        for name, value in _READ_ATTRIBUTES.findall(source)
        if (words := _words(value[1:-1]))
    ]
    for chunk in _HTML_TAG.sub("\n", source).split("\n"):
        if words := _words(chunk):
            found.append(words)
    return found


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_a_template_shows_no_word_outside_translation(template: Path):
    found = untranslated(template.read_text())
    assert not found, "shown without translation:\n" + "\n".join(found)


def test_the_check_finds_words_in_text_and_in_attributes_read_aloud():
    source = (
        '{% load i18n %}<h1>{% translate "Orders" %}</h1><p>Nothing yet.</p>'
        '<button aria-label="Close">{% blocktranslate %}Hi {{ n }}{% endblocktranslate %}'
        '</button><input placeholder="{% translate \'Search\' %}" value="{{ q }}">'
        "<script>let words = 'not shown'</script>{{ order.number }} · 12 %"
        '{% include "web/_field.html" with label="Name" help=_("Shown to buyers") %}'
    )
    assert untranslated(source) == [
        "label='Name' (in a tag)",
        "aria-label='Close'",
        "Nothing yet.",
    ]


# The web layer's calls whose text reaches a person: the message must be a gettext call.
_SHOWN = {"success", "error", "info", "warning", "toast"}
_GETTEXT = {"_", "gettext", "ngettext", "gettext_lazy", "pgettext", "format_lazy"}


def _shown_without_gettext(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _SHOWN or len(node.args) < 2:
            continue
        text = node.args[1]
        # `_("…").format(…)` and `_("…") % …` are translated before they are filled in.
        if isinstance(text, ast.Call) and isinstance(text.func, ast.Attribute):
            text = text.func.value
        if isinstance(text, ast.BinOp):
            text = text.left
        called = isinstance(text, ast.Call) and getattr(text.func, "id", "") in _GETTEXT
        literal = isinstance(text, ast.Constant | ast.JoinedStr) and _has_words(text)
        if literal or (isinstance(text, ast.Call) and not called and _is_text_call(text)):
            lines.append(node.lineno)
    return lines


def _has_words(text: ast.Constant | ast.JoinedStr) -> bool:
    parts = text.values if isinstance(text, ast.JoinedStr) else [text]
    return any(isinstance(part, ast.Constant) and _WORD.search(str(part.value)) for part in parts)


def _is_text_call(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr in {"format", "join"}


@pytest.mark.parametrize("module", WEB_MODULES, ids=lambda p: p.name)
def test_the_web_layer_shows_messages_through_gettext(module: Path):
    tree = ast.parse(module.read_text())
    assert _shown_without_gettext(tree) == [], f"{module.name}: messages not through gettext"


# The domain's refusals reach the pages too (a toast gives the service's reason and the
# fields it names): their words go through gettext where they are raised.
DOMAIN_MODULES = sorted(
    path
    for path in SOURCE.rglob("*.py")
    if path.parts[len(SOURCE.parts)] not in {"web", "api", "migrations", "management"}
    and "migrations" not in path.parts
)
_REFUSALS = {"Invalid", "Conflict", "NotFound", "Forbidden", "DomainError", "Unprocessable"}


def _is_words(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant | ast.JoinedStr) and _has_words(node)


def _refusal_words_outside_gettext(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        texts: list[ast.AST] = []
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in _REFUSALS:
            texts += node.args[:1]
            texts += [
                value
                for keyword in node.keywords
                if keyword.arg == "fields" and isinstance(keyword.value, ast.Dict)
                for value in keyword.value.values
            ]
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) and getattr(t.value, "id", "") == "errors"
            for t in node.targets
        ):
            texts.append(node.value)
        for text in texts:
            candidates = [text.body, text.orelse] if isinstance(text, ast.IfExp) else [text]
            lines += [text.lineno for c in candidates if _is_words(c)]
    return sorted(set(lines))


@pytest.mark.parametrize("module", DOMAIN_MODULES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_the_domain_refuses_in_words_through_gettext(module: Path):
    tree = ast.parse(module.read_text())
    found = _refusal_words_outside_gettext(tree)
    assert not found, f"{module.name}: refusals not through gettext at lines {found}"
