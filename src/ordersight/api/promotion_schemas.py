"""API shapes of the two rule trees promotions take: a segment's rules over customer figures
and a discount code's validation rules over the cart.

These models only document: the API fields typed `SegmentRules` and `CodeRules` take the
JSON as sent, and `promotions.segments.compile_rules` and `promotions.rules.check_rules`
check it, naming the bad part by its path (`rules.all[1].value`). The shapes are built from
the constants those checks use. Two rules span a whole tree, so they are stated in words:
at most MAX_DEPTH levels of nesting and, in a segment, MAX_CONDITIONS conditions in all.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, RootModel, WithJsonSchema

from ordersight.core.validation import MAX_AMOUNT
from ordersight.http.schemas import Currency, Id, StrictIn, text
from ordersight.promotions import rules, segments

# --- Segment rules -------------------------------------------------------------------------

_LIMIT = int(segments.MAX_VALUE)
_DIGITS = len(str(_LIMIT)) - 1
# A number compared with a customer's figures: JSON, or text such as "1000.00".
_Number = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": -_LIMIT, "exclusiveMaximum": _LIMIT},
                {"type": "string", "pattern": rf"^-?[0-9]{{1,{_DIGITS}}}(\.[0-9]{{1,4}})?$"},
            ],
            "description": "A number below 10^14 either side of 0, or one as text",
        }
    ),
]
_Whole = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "exclusiveMinimum": -_LIMIT, "exclusiveMaximum": _LIMIT},
                {"type": "string", "pattern": rf"^-?[0-9]{{1,{_DIGITS}}}$"},
            ],
            "description": "A whole number below 10^14 either side of 0, or one as text",
        }
    ),
]
_Moment = Annotated[
    str,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": segments.RELATIVE_MOMENT.pattern},
            ],
            "description": "An ISO date or time, or a time back from now: -90d, -12h, -30m",
        }
    ),
]
_Tag = text(segments.MAX_TAG)
_Compare = Literal[segments.COMPARISONS]
_Order = Literal["gt", "gte", "lt", "lte"]
_MetadataField = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": segments.METADATA_FIELD.pattern,
            "description": "metadata.<key>, dotted for nested objects",
        }
    ),
]


def _values(item: Any) -> Any:
    return Annotated[list[item], Field(min_length=1, max_length=segments.MAX_IN)]


class SegmentAll(StrictIn):
    """Every rule in the list holds."""

    all: list[SegmentRule] = Field(..., min_length=1, max_length=segments.MAX_CONDITIONS)


class SegmentAny(StrictIn):
    """At least one rule in the list holds."""

    any: list[SegmentRule] = Field(..., min_length=1, max_length=segments.MAX_CONDITIONS)


class SegmentMoneyCondition(StrictIn):
    """Net amount spent, or the average order, in one currency (0 if never bought in it)."""

    field: Literal[segments.MONEY_FIELDS]
    currency: Currency
    op: _Compare
    value: _Number


class SegmentMoneyInCondition(StrictIn):
    field: Literal[segments.MONEY_FIELDS]
    currency: Currency
    op: Literal["in"]
    value: _values(_Number)


class SegmentOrdersCondition(StrictIn):
    """Orders counted in all currencies (0 for a customer who never bought)."""

    field: Literal["orders"]
    op: _Compare
    value: _Whole


class SegmentOrdersInCondition(StrictIn):
    field: Literal["orders"]
    op: Literal["in"]
    value: _values(_Whole)


class SegmentDateCondition(StrictIn):
    """The first or last order's time; a customer who never bought matches none."""

    field: Literal[segments.DATE_FIELDS]
    op: _Order
    value: _Moment


class SegmentTagCondition(StrictIn):
    """The customer has the tag (eq) or has not (ne)."""

    field: Literal["tag"]
    op: Literal["eq", "ne"]
    value: _Tag


class SegmentTagInCondition(StrictIn):
    field: Literal["tag"]
    op: Literal["in"]
    value: _values(_Tag)


class SegmentMetadataCondition(StrictIn):
    """A value in the customer's metadata equals (eq) or differs from (ne) this one."""

    field: _MetadataField
    op: Literal["eq", "ne"]
    value: str | int | bool


class SegmentMetadataOrderCondition(StrictIn):
    """A number in the customer's metadata compared with this one."""

    field: _MetadataField
    op: _Order
    value: _Number


class SegmentMetadataInCondition(StrictIn):
    """A value in the customer's metadata is one of these (values as for eq)."""

    field: _MetadataField
    op: Literal["in"]
    value: _values(str | int | bool)


class SegmentRule(
    RootModel[
        SegmentAll
        | SegmentAny
        | SegmentMoneyCondition
        | SegmentMoneyInCondition
        | SegmentOrdersCondition
        | SegmentOrdersInCondition
        | SegmentDateCondition
        | SegmentTagCondition
        | SegmentTagInCondition
        | SegmentMetadataCondition
        | SegmentMetadataOrderCondition
        | SegmentMetadataInCondition
    ]
):
    """A group of rules ({"all": [...]} or {"any": [...]}) or a condition."""


SegmentAll.model_rebuild()
SegmentAny.model_rebuild()

SegmentRules = Annotated[
    Any,
    PlainValidator(lambda value: value, json_schema_input_type=SegmentRule),
    Field(
        description=f"At most {segments.MAX_DEPTH} levels deep and "
        f"{segments.MAX_CONDITIONS} conditions in all; a bad rule is refused naming its "
        'path, e.g. rules.all[1].value. E.g. {"all": [{"field": "spent", "currency": "USD", '
        '"op": "gt", "value": "1000.00"}, {"field": "orders", "op": "gte", "value": 5}]}'
    ),
]


# --- Discount code rules -------------------------------------------------------------------

_AMOUNT_DIGITS = len(str(int(MAX_AMOUNT))) - 1
_RuleAmount = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": int(MAX_AMOUNT)},
                {"type": "string", "pattern": rf"^[0-9]{{1,{_AMOUNT_DIGITS}}}(\.[0-9]{{1,4}})?$"},
                {"type": "null"},
            ],
            "description": "An amount from 0, as text or a number",
        }
    ),
]
_Quantity = Annotated[int | None, Field(ge=0, le=rules.MAX_QUANTITY)]


def _one_bound_at_least() -> dict[str, Any]:
    # min, max or both, not null: what `_check_bounds` asks ("give min, max or both").
    return {
        "anyOf": [
            {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
            for name in ("min", "max")
        ]
    }


class CodeRuleAll(StrictIn):
    """Every rule in the list holds."""

    all: list[CodeRule] = Field(..., min_length=1)


class CodeRuleAny(StrictIn):
    """At least one rule in the list holds."""

    any: list[CodeRule] = Field(..., min_length=1)


class OrderTotalRule(StrictIn):
    """The order is in `currency` and its total is within min and max (max at least min)."""

    model_config = {"json_schema_extra": _one_bound_at_least()}

    type: Literal["order_total"]
    currency: Currency
    min: _RuleAmount = None
    max: _RuleAmount = None


class ItemsRule(StrictIn):
    """The cart holds every one (items_required) or none (items_excluded) of these."""

    model_config = {
        "json_schema_extra": {
            "anyOf": [
                {"required": [name], "properties": {name: {"minItems": 1}}}
                for name in ("skus", "categories")
            ]
        }
    }

    type: Literal["items_required", "items_excluded"]
    skus: list[Annotated[str, Field(min_length=1)]] = Field(None, description="SKUs")
    categories: list[Annotated[int, Field(ge=1)]] = Field(None, description="Category numbers")


class QuantityRule(StrictIn):
    """How many units of `sku` (or of all items) the cart holds: within min and max."""

    model_config = {"json_schema_extra": _one_bound_at_least()}

    type: Literal["quantity"]
    sku: str = Field(None, min_length=1)
    min: _Quantity = None
    max: _Quantity = None


class SegmentMemberRule(StrictIn):
    """The order's customer is in the segment (the id of an existing one)."""

    type: Literal["segment"]
    segment: Id


class MetadataRule(StrictIn):
    """The order's metadata holds this value under `key`."""

    type: Literal["metadata"]
    key: str = Field(..., pattern=rules.METADATA_KEY.pattern)
    op: Literal["eq"]
    value: str | float | bool | None = None


class MetadataInRule(StrictIn):
    """The order's metadata holds one of these values under `key` (values as for eq)."""

    type: Literal["metadata"]
    key: str = Field(..., pattern=rules.METADATA_KEY.pattern)
    op: Literal["in"]
    value: list[str | float | bool | None] = Field(..., min_length=1, max_length=rules.MAX_IN)


class CodeRule(
    RootModel[
        CodeRuleAll
        | CodeRuleAny
        | OrderTotalRule
        | ItemsRule
        | QuantityRule
        | SegmentMemberRule
        | MetadataRule
        | MetadataInRule
    ]
):
    """A group of rules ({"all": [...]} or {"any": [...]}) or a condition on the cart."""


CodeRuleAll.model_rebuild()
CodeRuleAny.model_rebuild()

CodeRules = Annotated[
    Any,
    PlainValidator(lambda value: value, json_schema_input_type=CodeRule | None),
    Field(
        description=f"Validation rules, at most {rules.MAX_DEPTH} levels deep; null for none. "
        'E.g. {"all": [{"type": "order_total", "currency": "EUR", "min": "50.00"}, '
        '{"type": "quantity", "sku": "TEE-M", "max": 3}]}'
    ),
]
