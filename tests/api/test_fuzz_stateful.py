"""Schemathesis's stateful phase against the API's own schema: chains of calls where each one
takes what an earlier answer gave (a created order's number, its invoices, a new campaign's
id), so the routes meet objects the API itself just made and changed. No 5xx, answers keep
the schema and its status codes, what was just created can be found and what was just
deleted cannot."""

from __future__ import annotations

import collections
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import Bundle
from schemathesis.core import NOT_SET
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.generation.stateful.state_machine import StepInput

# Not schemathesis's public API (pinned in pyproject.toml): what `as_state_machine` builds
# a chain's first call with, to let more creates start chains.
from schemathesis.specs.openapi.stateful import (
    _step_case_strategy,
    is_root_allowed,
    normalize_name,
    transition,
)

from ordersight.payments.gateways import TEST_TOKENS, gateway_for
from tests.fakes.stripe import SECRET_KEY, FakeStripe, Ledger

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

API = "/api/v1"
# Fewer, longer scenarios reach deeper: a chain needs steps to get past its create.
SCENARIOS = 50
STEPS = 40

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
# Text with NUL is refused everywhere, by name, and the API's description says so.
schema.config.generation.update(allow_x00=False)

# Links schemathesis does not infer (the create's answer is named apart from the item's,
# or the key is in the request): a new campaign's id, a new member's handle, a creator's
# handle, a discount code, a recurring order's number, the invoice a refund was taken from.
DECLARED_LINKS: dict[tuple[str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("post", "/campaigns"): {
        "GetCampaign": ("get", "/campaigns/{campaign_id}", {"campaign_id": "id"}),
        "PatchCampaign": ("patch", "/campaigns/{campaign_id}", {"campaign_id": "id"}),
        "AddMember": ("post", "/campaigns/{campaign_id}/members", {"campaign_id": "id"}),
    },
    ("post", "/campaigns/{campaign_id}/members"): {
        "RemoveMember": (
            "delete",
            "/campaigns/{campaign_id}/members/{handle}",
            {"campaign_id": "id", "handle": "$request.body#/creator"},
        ),
        "Conversions": ("get", "/campaigns/{campaign_id}/conversions", {"campaign_id": "id"}),
    },
    ("post", "/creators"): {
        "GetCreator": ("get", "/creators/{handle}", {"handle": "handle"}),
        "PatchCreator": ("patch", "/creators/{handle}", {"handle": "handle"}),
    },
    ("post", "/discount-codes"): {
        "GetCode": ("get", "/discount-codes/{code}", {"code": "code"}),
        "PatchCode": ("patch", "/discount-codes/{code}", {"code": "code"}),
        "ValidateCode": ("post", "/discount-codes/{code}/validate", {"code": "code"}),
    },
    ("post", "/recurring-orders"): {
        "GetRecurringOrder": ("get", "/recurring-orders/{number}", {"number": "number"}),
        "Pause": ("post", "/recurring-orders/{number}/pause", {"number": "number"}),
        "Activate": ("post", "/recurring-orders/{number}/activate", {"number": "number"}),
        "Complete": ("post", "/recurring-orders/{number}/complete", {"number": "number"}),
        "PaymentMethod": (
            "put",
            "/recurring-orders/{number}/payment-method",
            {"number": "number"},
        ),
    },
    ("post", "/invoices/{number}/refunds"): {
        "RefundedInvoice": ("get", "/invoices/{number}", {"number": "invoice_number"}),
    },
}


def _declare_links() -> None:
    paths = schema.raw_schema["paths"]
    for (method, path), links in DECLARED_LINKS.items():
        response = paths[API + path][method]["responses"]["201"]
        for name, (target_method, target_path, parameters) in links.items():
            response.setdefault("links", {})[name] = {
                "operationId": paths[API + target_path][target_method]["operationId"],
                "parameters": {
                    key: value if value.startswith("$") else f"$response.body#/{value}"
                    for key, value in parameters.items()
                },
            }


_declare_links()
# The chains follow orders and what hangs off them (invoices, payments, refunds, discount
# codes, campaigns and their members, customers, segments, recurring orders, offers).
# Store sync, reports, exports and bulk routes are left to the per-operation fuzzing: no
# chain's create leads to them, and calls there would take the steps the chains need.
workflow_schema = schema.exclude(
    path_regex=r"/(sync|reports|sales-generated|users|order-sources|order-types|categories)\b"
    r"|/recurring-settings$|\.csv$|/bulk$|/webhooks/"
)

# Creates and lists that start chains too: schemathesis leaves out a create whose body names
# something no answer gives (an order's sales_manager_id) and lists whose filters do.
MORE_ROOTS = [
    f"POST {API}/orders",
    f"POST {API}/campaigns",
    f"GET {API}/customers",
    f"GET {API}/offers",
]

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.specs.openapi.checks.status_code_conformance,
    schemathesis.specs.openapi.checks.response_schema_conformance,
    # A read of what a chain just deleted answers 404 ...
    schemathesis.specs.openapi.checks.use_after_free,
    # ... and what a POST just created is there for the next call that names it.
    schemathesis.specs.openapi.checks.ensure_resource_availability,
]


def _workflow_machine() -> type:
    """The state machine, its chains started by creates and lists only (a made-up number
    in a path finds nothing), those of MORE_ROOTS among them."""
    machine = workflow_schema.as_state_machine()
    rules: dict[str, Any] = {}
    for label in machine._root_labels:
        if "{" in label:
            rules[normalize_name(f"RANDOM -> {label}")] = None  # takes the rule away
    for label in MORE_ROOTS:
        method, path = label.split(" ", 1)
        operation = workflow_schema[path][method]
        modes = schema.config.generation_for(operation=operation, phase="stateful").modes
        strategy = _step_case_strategy(operation, modes, feedback=NO_FEEDBACK)
        name = normalize_name(f"RANDOM -> {label}")
        rules[name] = transition(
            name=name,
            target=Bundle("catch_all"),
            precondition=is_root_allowed(label),
            input=strategy.map(StepInput.initial),
        )
    roots = {label for label in machine._root_labels if "{" not in label} | set(MORE_ROOTS)
    return type(
        "APIWorkflow",
        (machine,),
        {
            **rules,
            "root_rules": frozenset(normalize_name(f"RANDOM -> {label}") for label in roots),
            "_root_labels": frozenset(roots),
        },
    )


APIWorkflow = _workflow_machine()

# -- What half the calls name: things that exist (the known fixture, the catalog) -------------

SKUS = ("TEE-M", "TEE-L", "COURSE-1")  # the catalog fixture's variants
OFFERS = (101, 201)
# The test gateway's cards: paid, paid in one click, declined two ways. Its simulated outage
# answers 503 by design (tests/payments covers it), so the fuzzing leaves it out.
CARD_TOKENS = tuple(sorted(set(TEST_TOKENS) - {"tok_gateway_error"}))
SEGMENT_RULES = (
    {"field": "orders", "op": "gte", "value": 1},
    {"all": [{"field": "spent", "currency": "EUR", "op": "gt", "value": "10.00"}]},
    {
        "any": [
            {"field": "tag", "op": "eq", "value": "vip"},
            {"field": "orders", "op": "lt", "value": 3},
        ]
    },
)
Pick = Callable[[Sequence[Any]], Any]


@dataclass(frozen=True)
class Known:
    customer_id: int
    creator: str


def _order(body: dict[str, Any], pick: Pick, known: Known) -> None:
    # One line from the catalog (an order has one currency), a state an order may start in,
    # the campaign's coupon or the discount code; notes and the like stay as generated.
    for name in (
        "currency",
        "customer_external_id",
        "sales_manager_id",
        "sales_manager",
        "subtotal",
        "discount_total",
        "total",
        "metadata",
        "created_at",
        "external_id",
    ):
        body.pop(name, None)
    body.update(
        lines=[{"sku": pick(SKUS), "quantity": pick((1, 2, 3))}],
        customer_id=known.customer_id,
        source="api",
        order_type="standard",
        status=pick(("open", "draft", "open")),
        coupon_code=pick(("", "ANNA", "FUZZ10")),
        referral_code="",
    )


def _validate(body: dict[str, Any], pick: Pick, known: Known) -> None:
    order = body["order"] if isinstance(body.get("order"), dict) else {}
    _order(order, pick, known)
    body["order"] = order


def _campaign(body: dict[str, Any], pick: Pick, known: Known) -> None:
    body.update(
        name=body.get("name") or "Spring",
        commission_kind="percent",
        commission_percent=pick(("10", "2.5", "100")),
        fixed_commissions=None,
        ends_on=None,
    )


def _discount_code(body: dict[str, Any], pick: Pick, known: Known) -> None:
    for name in ("amounts", "target", "target_skus", "target_categories", "rules"):
        body.pop(name, None)
    body.update(
        code=f"FZ{pick(range(10**6))}",
        kind="percent",
        percent=pick(("5", "10", "50")),
        starts_at=None,
        ends_at=None,
        usage_limit=None,
        per_customer_limit=None,
    )


def _recurring_order(body: dict[str, Any], pick: Pick, known: Known) -> None:
    body.update(
        customer_id=known.customer_id,
        offer=pick(OFFERS),
        amount=pick(("10.00", "19.90", "300")),
        currency=None,
        interval_count=pick((1, 2, 12)),
        total_payments=pick((None, 3)),
        payment_system="card",
        payment_token=pick(CARD_TOKENS),
    )


# Operation -> what its body gets, where the schema leaves the API's rules unstated or a
# field names something that must exist.
BODIES: dict[str, Callable[[dict[str, Any], Pick, Known], None]] = {
    f"POST {API}/orders": _order,
    f"POST {API}/discount-codes/{{code}}/validate": _validate,
    f"POST {API}/orders/{{number}}/invoices": lambda body, pick, known: body.update(
        installments=pick((None, 2, 3)), amounts=None
    ),
    f"POST {API}/orders/{{number}}/payments/manual": lambda body, pick, known: body.update(
        payment_system="bank", amount=None, currency=None
    ),
    f"POST {API}/invoices/{{number}}/charge": lambda body, pick, known: body.update(
        payment_system="card", card_token=pick(CARD_TOKENS)
    ),
    f"POST {API}/invoices/{{number}}/refunds": lambda body, pick, known: body.update(
        amount=pick(("1", "5.00", "19.90", "300.00"))
    ),
    f"POST {API}/customers": lambda body, pick, known: body.update(
        email=pick(("", "ada@example.com")), tags=pick(([], ["vip"])), metadata={}, external_ids={}
    ),
    f"POST {API}/campaigns": _campaign,
    f"POST {API}/campaigns/{{campaign_id}}/members": lambda body, pick, known: body.update(
        creator=known.creator, coupon_codes=[], link_codes=[]
    ),
    f"POST {API}/creators": lambda body, pick, known: body.update(email="", payout={}),
    f"POST {API}/discount-codes": _discount_code,
    f"POST {API}/orders/{{number}}/discount-code": lambda body, pick, known: body.update(
        code="FUZZ10"
    ),
    f"POST {API}/segments": lambda body, pick, known: body.update(rules=pick(SEGMENT_RULES)),
    f"POST {API}/recurring-orders": _recurring_order,
}


def _aim(case, linked: set[str], known: dict[str, dict[str, str]]) -> None:
    """Half the calls name things that exist where no link gave a value: path parameters
    the known objects, bodies what the routes' rules accept, so chains get past their first
    create; the other half keep hypothesis's values. Whatever a link filled in is kept."""
    own_path = {k: v for k, v in (case.path_parameters or {}).items() if k not in linked}
    own_body = case.body if case.body is not NOT_SET else None
    if isinstance(own_body, dict):
        own_body = {k: v for k, v in own_body.items() if k not in linked}
    # Seeded by what hypothesis drew, not by what links gave (ids differ between scenarios).
    seed = zlib.crc32(repr((case.operation.label, own_path, own_body)).encode())
    if seed % 2:
        return
    for prefix, values in known.items():
        if case.path.startswith(prefix):
            for name, value in values.items():
                if name in own_path:
                    case.path_parameters[name] = value
    aim_body = BODIES.get(case.operation.label)
    if aim_body is None or not isinstance(case.body, dict):
        return
    picks = iter(range(seed, seed + 100))

    def pick(options: Sequence[Any]) -> Any:
        return options[next(picks) % len(options)]

    kept = {name: case.body[name] for name in linked if name in case.body}
    aim_body(
        case.body,
        pick,
        Known(
            customer_id=int(known[f"{API}/customers/"]["customer_id"]),
            creator=known[f"{API}/creators/"]["handle"],
        ),
    )
    case.body.update(kept)


# -- The run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    operation: str
    status: int
    # The call whose answer gave this one its values, when a link was followed.
    parent: str | None
    parent_status: int | None
    # How many links were followed to get here: 0 for a chain's first call.
    depth: int


@pytest.fixture
def stripe(settings):
    """Chains create payment systems of every provider and charge through them: Stripe's is
    the fake one on 127.0.0.1."""
    fake = FakeStripe().start()
    settings.STRIPE_API_BASE = fake.url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    yield fake
    fake.stop()


def run_workflows(token: str, known: dict[str, dict[str, str]], stripe: FakeStripe) -> list[Call]:
    """Runs the stateful phase and returns every call it made, with the link that led to it."""
    calls: list[Call] = []

    class Workflow(APIWorkflow):
        def setup(self) -> None:
            # Every scenario starts from the known objects alone, so one sequence of choices
            # always meets the same answers (hypothesis replays and extends sequences).
            self.savepoint = transaction.savepoint()
            gateway_for("test").forget()
            stripe.ledger = Ledger()
            self.depths: dict[str, int] = {}

        def teardown(self) -> None:
            transaction.savepoint_rollback(self.savepoint)

        def step(self, input: StepInput):
            _aim(input.case, {name for _, name in input.applied_parameters if name}, known)
            return super().step(input)

        def get_call_kwargs(self, case) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def after_call(self, response, case) -> None:
            super().after_call(response, case)
            node = self.recorder.cases[case.id]
            parent = parent_response = None
            if node.parent_id is not None and node.is_transition_applied:
                parent = self.recorder.cases[node.parent_id].value
                parent_response = self.recorder.interactions[parent.id].response
            depth = self.depths[parent.id] + 1 if parent else 0
            self.depths[case.id] = depth
            calls.append(
                Call(
                    operation=case.operation.label,
                    status=response.status_code,
                    parent=parent.operation.label if parent else None,
                    parent_status=parent_response.status_code if parent_response else None,
                    depth=depth,
                )
            )

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            case.validate_response(
                response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder
            )

    Workflow.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            derandomize=True,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    return calls


def _family(label: str) -> str:
    """What an operation is about: `POST /api/v1/orders/{number}/cancel` -> orders."""
    return label.split(" ", 1)[1].removeprefix(f"{API}/").split("/", 1)[0]


def test_api_workflows_never_fail_and_keep_the_schema(token, known, stripe):
    calls = run_workflows(token, known, stripe)

    # The links were followed: a create's answer (201) gave the next call the id it named,
    # and that call succeeded, for creates of many kinds ...
    after_create = [c for c in calls if c.parent_status == 201 and c.status < 300]
    creates = collections.Counter(c.parent for c in after_create)
    reached = collections.Counter(_family(c.operation) for c in after_create)
    # ... and chains went on from there, each call taking what the one before it gave.
    deep = collections.Counter(_family(c.operation) for c in calls if c.depth >= 3)
    summary = (
        f"{len(calls)} calls; statuses {collections.Counter(c.status for c in calls)}; "
        f"depths {collections.Counter(c.depth for c in calls)}; "
        f"succeeded after a create: {creates}; reached that way: {reached}; "
        f"three links or more down: {deep}"
    )
    assert len(creates) >= 6, summary
    assert len(reached) >= 5, summary
    assert sum(deep.values()) >= 30 and len(deep) >= 3, summary
