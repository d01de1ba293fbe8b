"""Input rules shared by several apps: characters no text may hold, metadata objects,
currencies, amounts, emails, times."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from ordersight.core.bidi import REPLACEMENT, bidi_control_error, replace_bidi_controls
from ordersight.core.errors import Invalid
from ordersight.core.money import fits_currency, format_money, is_currency, minor_units
from ordersight.core.zones import utc_bound

METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_DEPTH = 32
# Row ids and order/invoice numbers are 64-bit; offer/category numbers and quantities 32-bit.
MAX_ID = 2**63 - 1
MAX_NUMBER = 2**31 - 1
# Amounts stay below 10^11 so that, with four decimal places, every amount fits in the
# 15 significant digits SQLite keeps exactly (it stores decimals as floating point); the
# columns themselves would hold up to 10^14.
MAX_AMOUNT = Decimal(10) ** 11
# What the money columns (18 digits, 4 of them decimal) can hold at all.
COLUMN_AMOUNT_LIMIT = Decimal(10) ** 14
# Times that are stored (an order's creation, a discount code's validity): anything else is
# a typo or an attack, and dates near the end of the calendar overflow when shown in a time
# zone east or west of UTC.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


NUL = "\x00"


def text_error(text: str) -> str | None:
    """Why a piece of text is refused in any field, or None. NUL: PostgreSQL text cannot
    hold it (and SQLite would store it and break exports). Bidi controls: they make a
    name or code read differently from what it is (core/bidi.py)."""
    if NUL in text:
        return _("contains NUL")
    return bidi_control_error(text)


def harmless_text(text: str) -> str:
    """`text` with each character `text_error` refuses replaced by U+FFFD: for echoing a
    refused value (an id in a sync error), never for storing input."""
    return replace_bidi_controls(text).replace(NUL, REPLACEMENT)


def refused_text(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(path, reason) for each string, or object key, inside a JSON value that `text_error`
    refuses; paths read like the API's error fields (`lines[0].name`), "body" for the top.
    Every input path runs its input through here before anything else reads it: requests
    in `http/control_characters.py`, store feeds item by item in sync."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if (error := text_error(item)) is not None:
                yield path or "body", error
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and (error := text_error(key)) is not None:
                    yield path or "body", f"a key {error}"
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))


def split_refused(items: list[Any]) -> tuple[list[Any], list[tuple[Any, str]]]:
    """A batch received from outside (a store feed's page) split into the items whose text
    is acceptable and, for each refused one, (item, "path reason") for its first problem."""
    kept, refused = [], []
    for item in items:
        problem = next(refused_text(item), None)
        if problem is None:
            kept.append(item)
        else:
            refused.append((item, " ".join(problem)))
    return kept, refused


def whole_number(value: object) -> int | None:
    """The int a JSON value stands for when it is a whole number, or None. JSON has one
    number type: 3.0 is the whole number 3 (JSON Schema's `integer` says so too), though
    Python reads it as a float; true and false are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


# Digits of the largest number any column holds (a bigint has 19): longer text is no number
# of anything here, and int() refuses text of more than 4,300 digits outright.
_MOST_DIGITS = 18


def ascii_int(text: str) -> int | None:
    """The whole number `text` writes in the digits 0-9 (at most 18 of them, no sign), else
    None: a form's or a URL's number. `str.isdigit()` also accepts '²' (which `int()`
    refuses) and `isdecimal()` accepts other scripts' digits; neither is a number here."""
    if 0 < len(text) <= _MOST_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def is_id(value: object, *, limit: int = MAX_ID) -> bool:
    """True for an int that can name a row (1 up to the column's largest value)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= limit


def _depth(value: Any, limit: int) -> int:
    """How deeply `value` nests, counting no further than `limit` + 1 (no recursion, so
    a hostile document cannot exhaust the stack)."""
    depth, level = 0, [value]
    while level and depth <= limit:
        depth += 1
        children = (child for item in level for child in _children(item))
        level = [child for child in children if isinstance(child, dict | list)]
    return depth


def _children(item: dict | list) -> Any:
    return item.values() if isinstance(item, dict) else item


def clean_metadata(value: Any, *, field: str = "metadata") -> dict[str, Any]:
    """A metadata value must be a JSON object of at most 16 KB (compact UTF-8)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(
            _("Metadata must be a JSON object."), fields={field: _("must be a JSON object")}
        )
    if _depth(value, METADATA_MAX_DEPTH) > METADATA_MAX_DEPTH:
        raise Invalid(
            _("Metadata nests more than {max} levels deep.").format(max=METADATA_MAX_DEPTH),
            fields={field: _("at most {max} levels of nesting").format(max=METADATA_MAX_DEPTH)},
        )
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        # NaN and infinities: JSON has no such numbers, and PostgreSQL refuses them.
        raise Invalid(
            _("Metadata holds a number JSON cannot write (NaN or Infinity)."),
            fields={field: _("numbers must be finite")},
        ) from None
    size = len(text.encode())
    if size > METADATA_MAX_BYTES:
        raise Invalid(
            _("Metadata is {size} bytes; the limit is {max}.").format(
                size=size, max=METADATA_MAX_BYTES
            ),
            fields={
                field: _("at most {max} bytes (got {size})").format(
                    max=METADATA_MAX_BYTES, size=size
                )
            },
        )
    return value


def clean_currency(value: str | None, *, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if not is_currency(code):
        raise Invalid(
            _("{value} is not an ISO 4217 currency code.").format(value=repr(value)),
            fields={field: _("unknown currency")},
        )
    return code


def amount_error(amount: Decimal, currency: str, *, allow_zero: bool = True) -> str | None:
    """Why an amount is not acceptable in a currency, or None when it is."""
    if not amount.is_finite():
        return _("must be a finite number")
    if amount < 0 or (amount == 0 and not allow_zero):
        return _("must be greater than zero") if not allow_zero else _("must not be negative")
    if not fits_currency(amount, currency):
        return _("{currency} allows at most {places} decimal places").format(
            currency=currency, places=minor_units(currency)
        )
    if amount >= MAX_AMOUNT:
        return _("must be less than {max}").format(max=f"{MAX_AMOUNT:,.0f}")
    return None


CODE_MAX = 64
CODE_PATTERN = rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{CODE_MAX - 1}}}"
_CODE = re.compile(rf"^{CODE_PATTERN}$")


def code_error(value: str) -> str | None:
    """Why a coupon or referral code is not acceptable, or None (an empty one is no code)."""
    if not value:
        return None
    if len(value) > CODE_MAX:
        return _("at most {max} characters").format(max=CODE_MAX)
    if not _CODE.match(value):
        return _("letters, digits, '.', '-' or '_', starting with a letter or digit")
    return None


# The shortest text a search looks for inside names, e-mails, codes and SKUs: three
# characters make a trigram, so PostgreSQL's trigram indexes answer instead of a scan.
# Shorter text is matched whole.
SEARCH_PART_MIN = 3


def normal_code(value: str | None) -> str:
    """Codes are matched without regard to case or surrounding spaces: kept upper-case."""
    return (value or "").strip().upper()


def clean_code(value: str | None, *, field: str) -> str:
    code = normal_code(value)
    error = code_error(code)
    if error:
        raise Invalid(
            _("{value} is not a valid code.").format(value=repr(value)), fields={field: error}
        )
    return code


def clean_amounts_by_currency(value: Any, *, field: str, errors: dict[str, str]) -> dict[str, str]:
    """{"EUR": "5.00", "USD": "6"}: a positive amount per currency, each checked against its
    currency and kept as text with its decimals. Problems go into `errors` under
    `field.CUR` (or `field` when the whole value is wrong)."""
    if not isinstance(value, dict) or not value:
        errors[field] = _('an amount per currency, e.g. {"EUR": "5.00"}')
        return {}
    out: dict[str, str] = {}
    for raw_currency, raw_amount in value.items():
        name = f"{field}.{raw_currency}"
        try:
            currency = clean_currency(str(raw_currency), field=name)
            amount = Decimal(str(raw_amount))
        except Invalid as exc:
            errors.update(exc.fields)
            continue
        except (InvalidOperation, ValueError):
            errors[name] = _("an amount such as 5.00")
            continue
        problem = amount_error(amount, currency, allow_zero=False)
        if problem:
            errors[name] = problem
        else:
            out[currency] = format_money(amount, currency)
    return out


# What an email column holds (Django's EmailField); the address validator alone lets
# through up to 320 characters, which PostgreSQL would refuse.
EMAIL_MAX = 254


def clean_email(value: str | None, *, field: str = "email") -> str:
    email = (value or "").strip()
    if not email:
        return ""
    if len(email) > EMAIL_MAX:
        raise Invalid(
            _("The email address is longer than {max} characters.").format(max=EMAIL_MAX),
            fields={field: _("at most {max} characters").format(max=EMAIL_MAX)},
        )
    try:
        validate_email(email)
    except ValidationError:
        raise Invalid(
            _("{email} is not an email address.").format(email=repr(email)),
            fields={field: _("invalid email")},
        ) from None
    return email.lower()


# The id another system gives one of our objects: its source (a store, a feed) and the id.
EXTERNAL_SOURCE_MAX = 40
EXTERNAL_ID_MAX = 255


def _fits(text: Any, max_length: int) -> bool:
    return isinstance(text, str) and bool(text.strip()) and len(text) <= max_length


def clean_external_ids(value: Any, *, field: str = "external_ids") -> dict[str, str]:
    """{"shopify": "7001"}: each source and id non-blank and no longer than its column, so
    a bad one is refused by name instead of failing (PostgreSQL) or being cut (SQLite)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(
            _("External ids are an object of source to id."),
            fields={field: _('an object such as {"shopify": "7001"}')},
        )
    errors: dict[str, str] = {}
    for source, external_id in value.items():
        if not _fits(source, EXTERNAL_SOURCE_MAX):
            errors[f"{field}.{source}"] = _("a source of 1 to {max} characters").format(
                max=EXTERNAL_SOURCE_MAX
            )
        elif not _fits(external_id, EXTERNAL_ID_MAX):
            errors[f"{field}.{source}"] = _("an id of 1 to {max} characters").format(
                max=EXTERNAL_ID_MAX
            )
    if errors:
        raise Invalid(_("An external id is not valid."), fields=errors)
    return dict(value)


def clean_moment(moment: datetime, *, field: str, errors: dict[str, str]) -> datetime | None:
    """A time to store, in UTC (one without a zone is read as UTC, as the API documents):
    PostgreSQL refuses offsets beyond 15:59, which ISO 8601 allows. Outside EARLIEST to
    LATEST the error goes under `field` and None comes back."""
    utc = utc_bound(moment.replace(tzinfo=UTC) if timezone.is_naive(moment) else moment)
    if not EARLIEST <= utc < LATEST:
        errors[field] = _("between {earliest} and {latest}").format(
            earliest=f"{EARLIEST:%Y-%m-%d}", latest=f"{LATEST:%Y-%m-%d}"
        )
        return None
    return utc


# The first parts of a pydantic location say where the value came from, not what it is.
_ORIGINS = {"body", "query", "path", "header", "cookie", "form", "file"}


def field_name(loc: Sequence[Any], param_names: frozenset[str] = frozenset()) -> str:
    parts = list(loc)
    if parts and parts[0] in _ORIGINS:
        parts = parts[1:]
    if parts and parts[0] in param_names:
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


def validation_fields(errors: Sequence[dict[str, Any]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in errors:
        # `payload` and `params` are what the views call their body and query arguments.
        name = field_name(error.get("loc", ()), frozenset({"payload", "params"}))
        message = str(error.get("msg", "invalid"))
        fields[name] = f"{fields[name]}; {message}" if name in fields else message
    return fields
