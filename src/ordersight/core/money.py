"""Money: ISO 4217 currencies, their minor units, the one rounding rule (half-even), and the
two ways of sharing an amount that add up exactly: over installments and pending invoices
(`share_money`, what is left to the first), and over an order's lines in proportion to
their totals (`allocate`, what is left to the largest: a discount, a refund, a fee)."""

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

# Active ISO 4217 codes with their minor units. Most use 2; the exceptions are listed apart
# so the table stays readable.
_ZERO_DECIMALS = {
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "PYG",
    "RWF",
    "UGX",
    "UYI",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
}
_THREE_DECIMALS = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_FOUR_DECIMALS = {"CLF", "UYW"}
_TWO_DECIMALS = {
    "AED",
    "AFN",
    "ALL",
    "AMD",
    "ANG",
    "AOA",
    "ARS",
    "AUD",
    "AWG",
    "AZN",
    "BAM",
    "BBD",
    "BDT",
    "BGN",
    "BMD",
    "BND",
    "BOB",
    "BOV",
    "BRL",
    "BSD",
    "BTN",
    "BWP",
    "BYN",
    "BZD",
    "CAD",
    "CDF",
    "CHE",
    "CHF",
    "CHW",
    "CNY",
    "COP",
    "COU",
    "CRC",
    "CUP",
    "CVE",
    "CZK",
    "DKK",
    "DOP",
    "DZD",
    "EGP",
    "ERN",
    "ETB",
    "EUR",
    "FJD",
    "FKP",
    "GBP",
    "GEL",
    "GHS",
    "GIP",
    "GMD",
    "GTQ",
    "GYD",
    "HKD",
    "HNL",
    "HTG",
    "HUF",
    "IDR",
    "ILS",
    "INR",
    "IRR",
    "JMD",
    "KES",
    "KGS",
    "KHR",
    "KPW",
    "KYD",
    "KZT",
    "LAK",
    "LBP",
    "LKR",
    "LRD",
    "LSL",
    "MAD",
    "MDL",
    "MGA",
    "MKD",
    "MMK",
    "MNT",
    "MOP",
    "MRU",
    "MUR",
    "MVR",
    "MWK",
    "MXN",
    "MXV",
    "MYR",
    "MZN",
    "NAD",
    "NGN",
    "NIO",
    "NOK",
    "NPR",
    "NZD",
    "PAB",
    "PEN",
    "PGK",
    "PHP",
    "PKR",
    "PLN",
    "QAR",
    "RON",
    "RSD",
    "RUB",
    "SAR",
    "SBD",
    "SCR",
    "SDG",
    "SEK",
    "SGD",
    "SHP",
    "SLE",
    "SOS",
    "SRD",
    "SSP",
    "STN",
    "SVC",
    "SYP",
    "SZL",
    "THB",
    "TJS",
    "TMT",
    "TOP",
    "TRY",
    "TTD",
    "TWD",
    "TZS",
    "UAH",
    "USD",
    "USN",
    "UYU",
    "UZS",
    "VED",
    "VES",
    "WST",
    "XCD",
    "XCG",
    "YER",
    "ZAR",
    "ZMW",
    "ZWG",
}

MINOR_UNITS: dict[str, int] = {
    **{code: 0 for code in _ZERO_DECIMALS},
    **{code: 2 for code in _TWO_DECIMALS},
    **{code: 3 for code in _THREE_DECIMALS},
    **{code: 4 for code in _FOUR_DECIMALS},
}
CURRENCY_CODES: frozenset[str] = frozenset(MINOR_UNITS)
ZERO = Decimal("0")


class UnknownCurrency(ValueError):
    pass


def is_currency(code: str) -> bool:
    return code in MINOR_UNITS


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(f"{currency!r} is not an ISO 4217 currency code") from None


def quantum(currency: str) -> Decimal:
    try:
        return _QUANTA[currency]
    except KeyError:
        return Decimal(1).scaleb(-minor_units(currency))  # raises UnknownCurrency


# Made once: a page of orders formats hundreds of amounts.
_QUANTA = {code: Decimal(1).scaleb(-units) for code, units in MINOR_UNITS.items()}


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit, half-even: the only rounding ordersight does."""
    # A page of orders rounds some thousand amounts: no copy of one that is a Decimal already.
    if type(amount) is not Decimal:
        amount = Decimal(amount)
    return amount.quantize(quantum(currency), ROUND_HALF_EVEN)


def round_down_money(amount: Decimal, currency: str) -> Decimal:
    """Cut to the currency's minor unit, towards zero: for an amount that may ask for less
    than the exact figure but never for more (what is still due, a retry's amount)."""
    return Decimal(amount).quantize(quantum(currency), rounding=ROUND_DOWN)


def share_money(amount: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """`amount` shared over parts in proportion to `weights`, in whole minor units.

    Each part is its exact share cut to the minor unit; the minor units left over go to the
    first part, as an installment plan does, so the parts add up to `amount` (cut to the minor
    unit) exactly. Equal weights split equally. ValueError for a negative amount or weight,
    or weights adding up to zero."""
    if amount < 0 or any(weight < 0 for weight in weights):
        raise ValueError("Only a non-negative amount is shared, by non-negative weights.")
    whole = sum(weights, Decimal(0))
    if not weights or whole == 0:
        raise ValueError("Weights adding up to more than zero are needed to share an amount.")
    unit = quantum(currency)
    units = int(Decimal(amount) // unit)
    parts = [int(units * weight // whole) for weight in weights]
    parts[0] += units - sum(parts)
    return [Decimal(part) * unit for part in parts]


def allocate(amount: Decimal, weights: Sequence[Decimal], *, step: Decimal) -> list[Decimal]:
    """Share `amount` over parts in proportion to `weights`, in multiples of `step` (a
    currency's minor unit, or the precision figures are stored to), summing exactly.

    Every part is rounded down, and the steps left over go one each to the largest weights
    first (the earlier of equal ones), so the parts add up to `amount` whatever the rounding
    and no part takes more than its share by a step. Weights that add up to zero share
    equally; a negative amount (a figure taken back) is shared the same way.
    """
    if amount % step:
        # Not a whole number of steps: no sharing in steps adds up to it.
        raise ValueError(f"{amount} is not a whole number of {step}.")
    nothing = Decimal(0).quantize(step)
    if len(weights) <= 1:
        # All of it to the one part (most orders have one line): what the loop below gives.
        return [amount.quantize(step, ROUND_DOWN) + 0 for _ in weights]
    if not amount:
        return [nothing] * len(weights)
    total_weight = sum(weights)
    if not total_weight:
        weights = [Decimal(1)] * len(weights)
        total_weight = Decimal(len(weights))
    # `+ 0` turns a negative zero into zero.
    parts = [(amount * w / total_weight).quantize(step, ROUND_DOWN) + 0 for w in weights]
    left = amount - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    unit = step if left >= 0 else -step
    i = 0
    while left != 0:
        parts[order[i % len(order)]] += unit
        left -= unit
        i += 1
    return parts


def fits_currency(amount: Decimal, currency: str) -> bool:
    """True when the amount has no more decimal places than the currency's minor unit."""
    try:
        return amount == amount.quantize(quantum(currency))
    except InvalidOperation:
        return False


def format_money(amount: Decimal, currency: str) -> str:
    """The JSON and CSV form of an amount: a string with exactly the currency's decimals."""
    quantum_ = _QUANTA.get(currency)
    if quantum_ is not None and type(amount) is Decimal:
        # `round_money` inline: a page of orders with their invoices formats 650 amounts.
        return str(amount.quantize(quantum_, ROUND_HALF_EVEN))
    return str(round_money(amount, currency))
