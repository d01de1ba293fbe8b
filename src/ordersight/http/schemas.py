"""Schema pieces shared by every API router."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from ninja import Schema
from ninja.schema import DjangoGetter
from pydantic import (
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from ordersight.core.bidi import BIDI_CONTROLS
from ordersight.core.money import CURRENCY_CODES, MINOR_UNITS, minor_units
from ordersight.core.validation import (
    CODE_PATTERN,
    EMAIL_MAX,
    EXTERNAL_ID_MAX,
    EXTERNAL_SOURCE_MAX,
    MAX_AMOUNT,
    MAX_ID,
    MAX_NUMBER,
    METADATA_MAX_BYTES,
    METADATA_MAX_DEPTH,
)

T = TypeVar("T")
# Whole numbers that name rows: refused by name when the column could not hold them.
Id = Annotated[int, Field(gt=0, le=MAX_ID)]
Number = Annotated[int, Field(gt=0, le=MAX_NUMBER)]
NUMBER_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_NUMBER}
# An ISO 4217 code the money helpers know.
Currency = Literal[tuple(sorted(CURRENCY_CODES))]
CURRENCY_ENUM = {"type": "string", "enum": sorted(CURRENCY_CODES)}
# A currency the service reads itself (in any case), or none: stated as the codes it knows.
CurrencyOrNone = Annotated[str | None, WithJsonSchema({"anyOf": [CURRENCY_ENUM, {"type": "null"}]})]
# An id that may be null, as the schema states it (for fields the service checks itself).
ID_OR_NULL = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_ID}, {"type": "null"}]}


# A character `str.strip()` keeps: what makes text more than blanks. Spelt out, since the
# `\s` of JSON Schema's regular expressions (ECMA 262) leaves out characters Python strips
# (U+001C to U+001F, U+0085).
_BLANK = r"\x09-\x0d\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
VISIBLE = f"[^{_BLANK}]"


# What no text may hold (core.validation.text_error): NUL and the bidi controls, as a regular
# expression class. Patterns state it, so a client generating text from them never sends it.
_REFUSED = "\\x00" + "".join(f"\\u{ord(c):04x}" for c in BIDI_CONTROLS)


def text_pattern(excluding: str = "") -> str:
    """A regular expression for text with more than blanks in it, holding none of the
    characters no text may hold, nor those in `excluding` (a regex class's contents)."""
    refused = _REFUSED + excluding
    return f"^[^{refused}]*[^{_BLANK}{refused}][^{refused}]*$"


TEXT_PATTERN = text_pattern()


def text(max_length: int, *, excluding: str = "") -> Any:
    """Text with more than blanks in it, at most `max_length` characters (and none of the
    characters in `excluding`): what the services require of a name or a label, stated in
    the schema. The service still checks it, so its refusal names the field in its own
    words."""
    return Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "minLength": 1,
                "maxLength": max_length,
                "pattern": text_pattern(excluding),
            }
        ),
    ]


def one_of(values: Iterable[str], description: str | None = None) -> Any:
    """Text that is one of `values`, stated in the schema as an enum (see `text`)."""
    schema: dict[str, Any] = {"type": "string", "enum": list(values)}
    if description:
        schema["description"] = description
    return Annotated[str, WithJsonSchema(schema)]


def slug(pattern: str, description: str) -> Any:
    """Text the service matches against `pattern`, stated in the schema (see `text`)."""
    return Annotated[
        str, WithJsonSchema({"type": "string", "pattern": pattern, "description": description})
    ]


# Money travels as a string ("12.50"). The schema gives its shape, so a client generating
# requests from it sends amounts the API can read (a number is read as well); eleven integer
# digits at most, as amounts stay below core.validation.MAX_AMOUNT (10^11).
AMOUNT_PATTERN = r"^[0-9]{1,11}(\.[0-9]{1,4})?$"
AMOUNT_SCHEMA = {"type": "string", "pattern": AMOUNT_PATTERN, "examples": ["12.50"]}
Amount = Annotated[Decimal, WithJsonSchema(AMOUNT_SCHEMA)]
# An amount that must be more than zero: of the amount's shape, with a digit other than 0
# somewhere (a JSON Schema pattern matches anywhere unless anchored).
PositiveAmount = Annotated[
    Decimal,
    WithJsonSchema(
        {
            "type": "string",
            "allOf": [{"pattern": AMOUNT_PATTERN}, {"pattern": "[1-9]"}],
            "examples": ["12.50"],
        }
    ),
]


def _decimals_pattern(places: int) -> str:
    return r"^[0-9]{1,11}$" if places == 0 else rf"^[0-9]{{1,11}}(\.[0-9]{{1,{places}}})?$"


def decimals_by_currency(currency_field: str, amounts: Callable[[str], dict[str, Any]]) -> Any:
    """A JSON Schema clause for a body that names its currency in `currency_field`: the
    amounts `amounts(pattern)` places carry no more decimals than that currency's minor
    units (JPY none, EUR two, BHD three). When the field is absent or null the currency
    comes from elsewhere (an offer) and the schema cannot say. Use it in the model's
    `json_schema_extra` as `{"allOf": [clause]}`."""
    by_places: dict[int, list[str]] = {}
    for code, places in MINOR_UNITS.items():
        by_places.setdefault(places, []).append(code)
    # Two places is the rule; the other groups are short lists, tried first.
    chain: dict[str, Any] = amounts(_decimals_pattern(2))
    for places in sorted(by_places, reverse=True):
        if places != 2:
            chain = {
                "if": {"properties": {currency_field: {"enum": sorted(by_places[places])}}},
                "then": amounts(_decimals_pattern(places)),
                "else": chain,
            }
    return {
        "if": {
            "properties": {currency_field: {"type": "string"}},
            "required": [currency_field],
        },
        "then": chain,
    }


Percent = Annotated[
    Decimal,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(100(\.0{1,4})?|[0-9]{1,2}(\.[0-9]{1,4})?)$",
            "examples": ["10"],
        }
    ),
]


# A coupon or referral code, or empty for none; matched in any case, kept upper-case.
Code = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": rf"^({CODE_PATTERN})?$",
            "description": "Letters, digits, '.', '-' or '_', starting with a letter or digit",
        }
    ),
]
# An email address, or empty for none.
Email = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": 0},
                {"type": "string", "format": "email", "maxLength": EMAIL_MAX},
            ]
        }
    ),
]
# A JSON object kept as given (metadata, payout details); null stores an empty one.
JsonObject = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [{"type": "object"}, {"type": "null"}],
            "description": f"A JSON object of at most {METADATA_MAX_BYTES // 1024} KB "
            f"(compact UTF-8), nested at most {METADATA_MAX_DEPTH} levels",
        }
    ),
]
# The ids other systems know an object by: source → id, as core.validation checks them.
ExternalIds = Annotated[
    dict[str, str],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"minLength": 1, "maxLength": EXTERNAL_SOURCE_MAX, "pattern": VISIBLE},
            "additionalProperties": {
                "type": "string",
                "minLength": 1,
                "maxLength": EXTERNAL_ID_MAX,
                "pattern": VISIBLE,
            },
            "description": 'Source → id in that source, e.g. {"shopify": "7001"}',
        }
    ),
]


def _non_zero_fraction(decimals: int) -> str:
    """Up to `decimals` digits after the point, not all zero ("01", "5", "10" for two).
    Without look-ahead, which not every client's regular expressions have, a zero is kept
    out by asking for a non-zero digit after the leading zeros."""
    return "|".join(
        "0" * zeros
        + "[1-9]"
        + (f"[0-9]{{0,{decimals - 1 - zeros}}}" if zeros < decimals - 1 else "")
        for zeros in range(decimals)
    )


# Greater than 0 and at most 100, with at most four decimal places: a rate of commission or
# of discount (0 would be no rate at all).
PositivePercent = Annotated[
    Decimal,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(100(\.0{1,4})?|(0?[1-9]|[1-9][0-9])(\.[0-9]{1,4})?"
            rf"|0{{1,2}}\.({_non_zero_fraction(4)}))$",
            "examples": ["10"],
        }
    ),
]
_INTEGER_DIGITS = len(str(int(MAX_AMOUNT))) - 1  # amounts stay below 10^11: 11 digits


def positive_amount_pattern(decimals: int) -> str:
    """An amount greater than zero with at most `decimals` decimal places, below MAX_AMOUNT."""
    whole = f"[1-9][0-9]{{0,{_INTEGER_DIGITS - 1}}}"
    if not decimals:
        return f"^{whole}$"
    return rf"^({whole}(\.[0-9]{{1,{decimals}}})?|0\.({_non_zero_fraction(decimals)}))$"


def _amounts_by_currency_schema() -> dict[str, Any]:
    by_decimals: dict[int, list[str]] = {}
    for code in sorted(CURRENCY_CODES):
        by_decimals.setdefault(minor_units(code), []).append(code)
    return {
        "type": "object",
        "minProperties": 1,
        "patternProperties": {
            f"^({'|'.join(codes)})$": {"type": "string", "pattern": positive_amount_pattern(n)}
            for n, codes in sorted(by_decimals.items())
        },
        "additionalProperties": False,
        "description": "An amount greater than zero per ISO 4217 currency, with no more "
        "decimal places than the currency has",
        "examples": [{"EUR": "5.00"}],
    }


# {"EUR": "5.00", "JPY": "500"}: what core.validation.clean_amounts_by_currency accepts.
AmountsByCurrency = Annotated[dict[str, str], WithJsonSchema(_amounts_by_currency_schema())]


def required_when(field: str, value: str, *needed: str) -> dict[str, Any]:
    """A JSON Schema rule for a model's `json_schema_extra`: when `field` is `value`, the
    `needed` fields are given too, and not null."""
    return {
        "if": {"properties": {field: {"const": value}}, "required": [field]},
        "then": {
            "required": list(needed),
            "properties": {name: {"not": {"type": "null"}} for name in needed},
        },
    }


class StrictIn(Schema):
    """Input schemas refuse unknown fields, so a misspelt field is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        # Replaces ninja's validator of the same name, which, for a schema that forbids
        # extra fields, validates the input and then validates it again read through a
        # getter meant for model instances: a third of a 1,000-order bulk request's parsing.
        # Input is parsed JSON or query parameters, a dict: validated once, as it is.
        # Anything else goes ninja's way (a list as the body is refused as not an object).
        if isinstance(values, dict):
            return handler(values)
        handler(values)
        return handler(DjangoGetter(values, cls, info.context))


class PageOut(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, str]


class ErrorOut(Schema):
    error: ErrorDetail


# What any endpoint may answer, whatever it does: a body that is not JSON (400), no or bad
# credentials (401), a refusal (403), an unknown object (404), a state that forbids it (409),
# a body over the size limit (413), invalid input (422), too many requests (429).
STANDARD_ERRORS = (400, 401, 403, 404, 409, 413, 422, 429)


def error_responses(*extra_codes: int) -> dict[int, type[ErrorOut]]:
    """The `response=` entries documenting the standard error answers (and `extra_codes`)."""
    return dict.fromkeys(sorted({*STANDARD_ERRORS, *extra_codes}), ErrorOut)
