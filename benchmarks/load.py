"""The product over HTTP under load: `ordersight serve` on the benchmark's database, driven by
wrk at 1, 10 and 50 connections, each endpoint beside a bare endpoint of the same process
(benchmarks/bare/urls.py) measured in the same run.

Run by benchmarks/run.py (`make bench`, or `make bench BENCH_ARGS="--only load"`), or alone
against a database that already holds data (`ordersight gendata --orders 1000000` first):

    DATABASE_URL=postgres://... python benchmarks/load.py [--seconds 10]

The server runs as shipped: two web workers, authentication and rate limiting on (the limits
raised so the counting happens but never refuses), Redis for the counts, DEBUG off.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = (1, 10, 50)
RUN_TOKEN = f"{int(time.time()):x}"
# wrk gives up on an answer after this long and counts it as a timeout: "over 2 s".
TIMEOUT = "2s"

# Counts answers that are not 2xx (wrk itself passes 3xx: a page redirected to sign-in
# would look fast), and prints the figures as JSON for this module to read.
REPORT = """
local threads = {}
setup = function(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end
bad = 0
response = function(status, headers, body)
  if status >= 300 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local e = summary.errors
  local not_2xx = 0
  for _, thread in ipairs(threads) do not_2xx = not_2xx + thread:get("bad") end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "not_2xx": %d, "timeouts": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, not_2xx, e.timeout, e.connect + e.read + e.write,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""

# Each request a new order of three lines; the external id differs per run, thread and
# request so none is a repeat.
POST_ORDERS = """
local counter = 0
thread_id = 0
request = function()
  counter = counter + 1
  local body = string.format(BODY, thread_id, counter)
  return wrk.format("POST", PATH, HEADERS, body)
end
"""


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    over_2s: int
    failed: int

    def text(self) -> str:
        return (
            f"{self.rps:,.0f} req/s, p50 {self.p50_ms:,.1f} ms, p99 {self.p99_ms:,.0f} ms"
            + (f", {self.over_2s} over 2 s" if self.over_2s else "")
            + (f", {self.failed} failed" if self.failed else "")
        )


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is missing: `make bench` installs it (Debian's wrk package).")
    return found


def wrk(
    url: str,
    connections: int,
    seconds: int,
    headers: dict[str, str],
    script: str = "",
) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script + REPORT)
    command = [
        ensure_wrk(),
        f"-t{min(connections, 2)}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={TIMEOUT}",
        "-s",
        lua.name,
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    os.unlink(lua.name)
    last = (done.stdout.strip().splitlines() or [""])[-1]
    if not last.startswith("{"):
        raise SystemExit(f"wrk gave no figures for {url}: {done.stderr or done.stdout}")
    figures = json.loads(last)
    return Run(
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        over_2s=figures["timeouts"],
        failed=figures["not_2xx"] + figures["socket_errors"],
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(database_url: str) -> tuple[subprocess.Popen, str, Path]:
    from django.conf import settings

    port = _free_port()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "bare.settings",
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")])
            ),
            "DEBUG": "0",
            # This process signs the session the pages are read with.
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            # Plain HTTP on the loopback, as behind a TLS proxy on the same host.
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "SECURE_HSTS_SECONDS": "0",
            "DB_STATEMENT_TIMEOUT": "15",
            "REDIS_URL": os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14"),
            "API_RATE_LIMIT_PER_KEY": str(10**9),
            "API_RATE_LIMIT_PER_ADDRESS": str(10**9),
            "ORDERSIGHT_DATA_DIR": tempfile.mkdtemp(prefix="ordersight-load-"),
        }
    )
    log = Path(env["ORDERSIGHT_DATA_DIR"]) / "serve.log"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "ordersight", "serve", "--no-migrate", "--no-worker"),
            *("--workers", "2", "--port", str(port)),
        ],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2).read()
            break
        except OSError:
            time.sleep(0.5)
    else:
        raise SystemExit("serve did not answer /healthz in 2 minutes")
    return process, base, log


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def first_byte_ms(url: str, headers: dict[str, str], runs: int = 5) -> float:
    """Median time from sending the request to the first byte of the body, one at a time."""
    import http.client
    import statistics
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    samples = []
    for _ in range(runs + 1):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        start = time.perf_counter()
        connection.request("GET", f"{parts.path}?{parts.query}", headers=headers)
        response = connection.getresponse()
        assert response.status == 200, response.status
        assert response.read(1)
        samples.append((time.perf_counter() - start) * 1000)
        connection.close()  # the rest of the export is abandoned, as a cancelled download
    return statistics.median(samples[1:])


def order_body(variants: list, customers: list, rng: random.Random) -> str:
    """A new order of three lines in one currency for a known customer, as a storefront
    sends it at checkout (a new order starts open), as a Lua format string."""
    currency = rng.choice([v.offer.currency for v in variants])
    same = [v for v in variants if v.offer.currency == currency]
    body = {
        "external_id": "load-%d-%d",
        "source": "storefront",
        "currency": currency,
        "customer_id": rng.choice(customers).pk,
        "lines": [
            {"sku": v.sku, "quantity": rng.randint(1, 3) if v.offer.allow_quantity else 1}
            for v in rng.sample(same, 3)
        ],
    }
    return json.dumps(body)


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def post_script(path: str, headers: dict[str, str], body: str, run: str) -> str:
    # Unique to this run too, so a second run on the same database creates, not conflicts.
    body = body.replace("load-%d-%d", f"load-{RUN_TOKEN}-{run}-%d-%d")
    header_table = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items())
    return (
        f"BODY = {lua_string(body)}\nPATH = {lua_string(path)}\n"
        f"HEADERS = {{{header_table}}}\n" + POST_ORDERS
    )


@dataclass
class Endpoint:
    name: str
    path: str
    bare: str  # a bare endpoint's path, or "" when compared with another endpoint
    headers: Callable[[], dict[str, str]]
    script: str = ""
    bare_script: str = ""
    connections: tuple[int, ...] = CONNECTIONS


def queries_per_request(path: str, headers: dict[str, str], method: str = "get") -> int:
    """Queries one request makes, through the whole middleware, in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    django_headers = {name.lower(): value for name, value in headers.items()}
    getattr(client, method)(path, headers=django_headers, secure=True)  # warm
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(path, headers=django_headers, secure=True)
    assert response.status_code < 400, (path, response.status_code)
    return len(queries)


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


@dataclass
class Row:
    name: str
    ours: str
    baseline: str
    ratio: float
    note: str


def measure(
    database_url: str, seconds: int, campaign_id: int | None, only: frozenset[str] = frozenset()
) -> list[Row]:
    """Every endpoint at each number of connections beside its bare endpoint, in one run
    (or the groups named in `only`: healthz, reads, pages, create, export)."""

    def wanted(group: str) -> bool:
        return not only or group in only

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from ordersight.accounts.roles import ensure_roles
    from ordersight.accounts.services import create_api_key
    from ordersight.catalog.models import Variant
    from ordersight.customers.models import Customer
    from ordersight.orders.models import Order

    ensure_roles()
    token = create_api_key(name="load benchmark", scopes="read,write")[1]
    user = get_user_model().objects.filter(username="load-bench").first()
    user = user or get_user_model().objects.create_superuser("load-bench", "l@example.com", "x")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    api = {"Authorization": f"Bearer {token}"}
    signed_in = {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
    with connection.cursor() as cursor:
        cursor.execute("CREATE SEQUENCE IF NOT EXISTS bench_bare_order_number START 900000000000")
    order = Order.objects.order_by("-created_at").values_list("number", flat=True)[25]
    name = Customer.objects.exclude(name="").order_by("pk").values_list("name", flat=True)[7]
    term = name.split()[0][:5]
    rng = random.Random(7)
    variants = list(Variant.objects.select_related("offer").filter(offer__isnull=False)[:40])
    body = order_body(variants, list(Customer.objects.order_by("pk")[:500]), rng)
    json_api = {**api, "Content-Type": "application/json"}

    process, base, log = start_server(database_url)
    rows: list[Row] = []
    try:

        def run(path: str, conns: int, headers: dict[str, str], script: str = "") -> Run:
            return wrk(base + path, conns, seconds, headers, script)

        for conns in CONNECTIONS if wanted("healthz") else ():
            kept = run("/healthz", conns, {})
            closed = run("/healthz", conns, {"Connection": "close"})
            rows.append(
                Row(
                    f"`/healthz`, kept-alive connections, {conns} conn.",
                    kept.text(),
                    f"{closed.text()} (a new connection per request)",
                    _ratio(closed.rps, kept.rps),
                    "target: kept-alive ≥ 0.9 × new connections (ratio ≤ 1.11)",
                )
            )
        reads = [
            ("`GET /api/v1/orders?limit=50`", "/api/v1/orders?limit=50", "/bare/orders"),
            (
                "the same, filtered by status and currency",
                "/api/v1/orders?limit=50&status=completed&currency=EUR",
                "/bare/orders-filtered",
            ),
            (
                f"search `?q={term}`",
                f"/api/v1/orders?limit=50&q={term}",
                f"/bare/orders-search?q={term}",
            ),
            ("one order, `GET /api/v1/orders/{number}`", f"/api/v1/orders/{order}", ""),
            ("`GET /api/v1/reports/performance`", "/api/v1/reports/performance", ""),
        ]
        bare_of = {
            f"/api/v1/orders/{order}": f"/bare/orders/{order}",
            "/api/v1/reports/performance": "/bare/performance",
        }
        list_p50: dict[int, Run] = {}
        for label, path, bare in reads if wanted("reads") or wanted("pages") else ():
            if not wanted("reads") and path != "/api/v1/orders?limit=50":
                continue  # the pages are compared with the list API: it is measured
            bare = bare or bare_of[path]
            queries = queries_per_request(path, api)
            for conns in CONNECTIONS:
                ours = run(path, conns, api)
                baseline = run(bare, conns, api)
                if path == "/api/v1/orders?limit=50":
                    list_p50[conns] = ours
                rows.append(
                    Row(
                        f"{label}, {conns} conn.",
                        ours.text(),
                        f"{baseline.text()} (bare endpoint)",
                        _ratio(baseline.rps, ours.rps),
                        f"{queries} queries; target: ratio ≤ 2 at 10 and 50 conn.",
                    )
                )
        pages = [("All Orders page", "/orders/"), ("an order's page", f"/orders/{order}/")]
        pages.append(("the dashboard (sales performance)", "/"))
        if campaign_id is not None:
            pages.append(("a campaign's Performance tab", f"/campaigns/{campaign_id}/"))
        for label, path in pages if wanted("pages") else ():
            queries = queries_per_request(path, signed_in)
            for conns in CONNECTIONS:
                ours = run(path, conns, signed_in)
                api_run = list_p50[conns]
                rows.append(
                    Row(
                        f"{label}, signed in, {conns} conn.",
                        ours.text(),
                        f"{api_run.text()} (the list API, same connections)",
                        _ratio(ours.p50_ms, api_run.p50_ms),
                        f"{queries} queries; ratio of p50s; target ≤ 2",
                    )
                )
        for conns in (1, 10) if wanted("create") else ():
            create = post_script("/api/v1/orders", json_api, body, f"ours{conns}")
            ours = run("/api/v1/orders", conns, json_api, create)
            create = post_script("/bare/create-order", json_api, body, f"bare{conns}")
            baseline = run("/bare/create-order", conns, json_api, create)
            rows.append(
                Row(
                    f"`POST /api/v1/orders`, 3 lines, {conns} conn.",
                    ours.text(),
                    f"{baseline.text()} (bare: the rows inserted as sent)",
                    _ratio(baseline.rps, ours.rps),
                    "catalog prices, customer, events, figures; target p99 ≤ 100 ms at 10",
                )
            )
        if wanted("export"):
            ours_ms = first_byte_ms(base + "/api/v1/orders/export.csv", api)
            bare_ms = first_byte_ms(base + "/bare/export", api)
            rows.append(
                Row(
                    "CSV export of all orders, first byte",
                    f"{ours_ms:,.1f} ms",
                    f"{bare_ms:,.1f} ms (bare: COPY of five columns)",
                    ours_ms / bare_ms,
                    "median of 5, one at a time; the download abandoned after the first byte",
                )
            )
    finally:
        stop_server(process)
    errors = [line for line in log.read_text().splitlines() if "Traceback" in line]
    if errors:
        print(f"serve logged {len(errors)} tracebacks; see {log}")
    return rows


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="The load benchmark on an existing database.")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--seconds", type=int, default=10, help="each run's length")
    parser.add_argument("--only", default="", help="healthz,reads,pages,create,export")
    parser.add_argument("--connections", default="", help="e.g. 10,50 (default 1,10,50)")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("give a PostgreSQL database that holds data (--database-url)")
    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "DJANGO_SETTINGS_MODULE": "ordersight.settings",
            "DEBUG": "false",
            "DB_STATEMENT_TIMEOUT": "0",
        }
    )
    os.environ.setdefault("SECRET_KEY", "load-benchmark-" + "x" * 40)
    import django

    django.setup()
    from ordersight.campaigns.models import Campaign
    from ordersight.orders.models import Order

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import _campaign_with_conversions, _machine

    campaign = Campaign.objects.order_by("pk").values_list("pk", flat=True).first()
    if campaign is None:
        campaign, _ = _campaign_with_conversions(20_000)
    orders = Order.objects.count()
    only = frozenset(filter(None, args.only.split(",")))
    if args.connections:
        global CONNECTIONS
        CONNECTIONS = tuple(int(n) for n in args.connections.split(","))
    rows = measure(args.database_url, args.seconds, campaign, only)
    print(f"- Machine: {_machine()}")
    print(f"- Orders: {orders:,}; each run {args.seconds} s")
    print("\n| measurement | ordersight | baseline | ratio | what it covers |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r.name} | {r.ours} | {r.baseline} | {r.ratio:.2f} | {r.note} |")


if __name__ == "__main__":
    main()
