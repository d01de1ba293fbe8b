"""Where store sync may connect: https stores on public addresses (private ones only when the
operator allows them), checked on the address actually connected to, again at every
redirect and every `Link` (which stay on the store's origin), and `file://` feeds only below
SYNC_FILE_ROOT. Whatever the address, a network failure reads "could not reach the store"."""

from __future__ import annotations

import ast
import json
import socket
import ssl
import threading
from pathlib import Path

import pytest

import ordersight.sync
from ordersight.customers.models import Customer
from ordersight.sync import services, transport
from ordersight.sync.generic import FeedSource
from ordersight.sync.models import ReceivedRecord, StoreConnection
from ordersight.sync.shopify import ShopifyClient
from ordersight.sync.transport import AddressRefused, StoreAccess, StoreUnavailable
from tests import factories
from tests.fakes.shopify import TOKEN, FakeShopify
from tests.sync.test_shopify_customers import shopper

pytestmark = pytest.mark.django_db
TOKEN_ENV = "ORDERSIGHT_SYNC_SHOPIFY_TOKEN_TEST"


def customers_run(connection):
    return services.run_feed(feed=services.feeds_of(connection=connection)["customers"])


@pytest.fixture
def private_refused(settings):
    settings.SYNC_ALLOW_PRIVATE_NETWORKS = False


# --- Creating a connection ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://main.myshopify.com",  # the token would cross the network in clear
        "http://127.0.0.1:8000/x",
        "https://127.0.0.1:8000",
        "https://localhost",
        "https://[::1]:443",
        "https://10.0.0.7",
        "https://192.168.1.1",
        "https://169.254.169.254",  # a cloud's metadata service
        "https://[::ffff:127.0.0.1]",
        "https://0.0.0.0",
        "https://main.myshopify.com?x=1",
        "https://main.myshopify.com#x",
        "https://user:password@main.myshopify.com",
        "file:///etc/passwd",
    ],
)
def test_a_store_address_that_is_not_public_https_is_refused(api, private_refused, url):
    response = api.post("sync/connections", {"name": "x", "shop_url": url})
    assert response.status_code == 422, response.content
    assert "shop_url" in response.json()["error"]["fields"]
    assert not StoreConnection.objects.exists()


def test_private_addresses_and_plain_http_are_the_operators_choice(api, settings):
    settings.SYNC_ALLOW_PRIVATE_NETWORKS = True
    made = api.post("sync/connections", {"name": "lan", "shop_url": "http://10.0.0.7:8080/shop"})
    assert made.status_code == 201, made.content
    metadata = api.post("sync/connections", {"name": "m", "shop_url": "http://169.254.169.254"})
    assert metadata.status_code == 422  # link-local stays refused: no store lives there


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd#",
        "file:///etc/passwd",
        "file:///tmp/feeds?x",
    ],
)
def test_a_file_feed_is_refused_while_no_file_root_is_set(api, settings, url):
    settings.SYNC_FILE_ROOT = ""
    response = api.post("sync/connections", {"name": "f", "platform": "feed", "shop_url": url})
    assert response.status_code == 422 and "shop_url" in response.json()["error"]["fields"]


def test_a_file_feed_stays_below_the_file_root_without_query_or_fragment(api, settings, tmp_path):
    root = tmp_path / "feeds"
    (root / "main").mkdir(parents=True)
    settings.SYNC_FILE_ROOT = str(root)
    for url in (
        f"{root.as_uri()}/main#",
        f"{root.as_uri()}/main?x=1",
        f"{root.as_uri()}/../",
        tmp_path.as_uri(),
        "file:///etc/passwd",
        f"file://otherhost{root}/main",
    ):
        response = api.post("sync/connections", {"name": "f", "platform": "feed", "shop_url": url})
        assert response.status_code == 422, url
        assert "shop_url" in response.json()["error"]["fields"]
    body = {"name": "f", "platform": "feed", "shop_url": (root / "main").as_uri()}
    assert api.post("sync/connections", body).status_code == 201


# --- Connections stored before the rules: they fail safely -----------------------------------


def test_a_stored_feed_reading_a_whole_file_by_its_fragment_reads_nothing(
    settings, tmp_path, read_api, roles
):
    settings.SYNC_FILE_ROOT = ""
    secret = tmp_path / "any" / "file.json"
    secret.parent.mkdir()
    secret.write_text(
        json.dumps({"external_id": "c1", "name": "Ada Lovelace", "tags": ["b2b"]}) + "\n"
    )
    connection = StoreConnection.objects.create(
        name="files", platform="feed", shop_url=f"{secret.as_uri()}#"
    )
    run = customers_run(connection)
    assert run.status == "failed" and "refused" in run.message
    assert run.received == 0 and not ReceivedRecord.objects.exists()
    connection.shop_url = secret.parent.as_uri()  # no fragment, but no file root either
    connection.save()
    again = services.run_feed(feed=services.feeds_of(connection=connection)["customers"], full=True)
    assert again.status == "failed" and "SYNC_FILE_ROOT" in again.message
    assert read_api.get("sync/connections/files/lookup/customer", external_id="c1").status_code == (
        404
    )
    viewer = factories.signed_in(roles, "Viewer", "vic")
    page = viewer.get("/sync/files/lookup/", {"kind": "customer", "external_id": "c1"})
    assert (
        "No such customer" in page.content.decode() and "Ada Lovelace" not in page.content.decode()
    )


def test_etc_passwd_is_never_read_even_below_a_file_root_elsewhere(settings, tmp_path):
    settings.SYNC_FILE_ROOT = str(tmp_path)
    connection = StoreConnection.objects.create(
        name="passwd", platform="feed", shop_url="file:///etc/passwd#"
    )
    run = customers_run(connection)
    assert run.status == "failed" and run.received == 0
    assert "line" not in run.message and not run.item_errors.exists()


def test_a_link_out_of_the_file_root_is_not_followed(settings, tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "customers.jsonl").write_text(json.dumps({"external_id": "c1", "tags": ["b2b"]}))
    (root / "customers.jsonl").symlink_to(outside / "customers.jsonl")
    settings.SYNC_FILE_ROOT = str(root)
    connection = StoreConnection.objects.create(
        name="files", platform="feed", shop_url=root.as_uri()
    )
    run = customers_run(connection)
    assert run.status == "failed" and run.received == 0
    assert not Customer.objects.exists()


def test_a_stored_store_on_a_private_address_is_never_asked(shop, monkeypatch, private_refused):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    connection = StoreConnection.objects.create(
        name="main", platform="shopify", shop_url=shop.url, token_env=TOKEN_ENV
    )
    shop.store.customers = [shopper(1)]
    run = customers_run(connection)
    assert run.status == "failed" and "SYNC_ALLOW_PRIVATE_NETWORKS" in run.message
    assert shop.store.requests == []


# --- Redirects and Link headers stay on the store's origin -----------------------------------


@pytest.fixture
def elsewhere():
    other = FakeShopify().start()
    yield other
    other.stop()


def test_a_link_to_a_file_is_not_followed(shop, connection, tmp_path, settings):
    settings.SYNC_FILE_ROOT = str(tmp_path)
    stolen = tmp_path / "customers.json"
    stolen.write_text(json.dumps({"customers": [shopper(99)]}))
    shop.store.customers = [shopper(1)]
    shop.store.next_link = stolen.as_uri()
    run = customers_run(connection)
    assert run.status == "failed" and "store's own address" in run.message
    assert not Customer.objects.filter(email="buyer99@example.com").exists()


def test_a_link_to_another_origin_is_not_followed(shop, connection, elsewhere):
    elsewhere.store.customers = [shopper(99)]
    shop.store.customers = [shopper(1)]
    shop.store.next_link = f"{elsewhere.url}/admin/api/2024-10/customers.json"
    run = customers_run(connection)
    assert run.status == "failed" and "store's own address" in run.message
    assert elsewhere.store.requests == []
    assert not Customer.objects.filter(email="buyer99@example.com").exists()


def test_a_redirect_to_another_origin_is_not_followed(shop, connection, elsewhere):
    shop.store.redirect_to = f"{elsewhere.url}/admin/api/2024-10/customers.json"
    run = customers_run(connection)
    assert run.status == "failed" and "store's own address" in run.message
    assert elsewhere.store.requests == []  # the token never left for it


def test_a_redirect_on_the_store_itself_is_followed(shop, connection):
    shop.store.customers = [shopper(1)]
    shop.store.redirect_to = f"{shop.url}/admin/api/2024-10/customers.json?limit=250"
    answer = StoreAccess(shop.url).get(
        f"{shop.url}/moved", headers={"X-Shopify-Access-Token": TOKEN}
    )
    assert answer.status == 200 and json.loads(answer.body)["customers"][0]["id"] == 7001
    assert shop.store.requests[0] == "/moved"


# --- One message for every network failure (no port map) ------------------------------------


@pytest.fixture
def ports():
    """An HTTP port (the fake store), a closed port and a port that answers in no protocol."""
    fake = FakeShopify().start()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    raw = socket.socket()
    raw.bind(("127.0.0.1", 0))
    raw.listen()

    def babble() -> None:
        while True:
            try:
                conn, _ = raw.accept()
            except OSError:
                return
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            conn.close()

    threading.Thread(target=babble, daemon=True).start()
    yield {
        "http": fake.url,
        "closed": f"http://127.0.0.1:{closed_port}",
        "babble": f"http://127.0.0.1:{raw.getsockname()[1]}",
    }
    raw.close()
    fake.stop()


def _messages(ports, monkeypatch) -> dict[str, str]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setattr("ordersight.sync.shopify.BACKOFF_SECONDS", 0)
    out = {}
    for kind, url in ports.items():
        connection = StoreConnection.objects.create(
            name=kind, platform="shopify", shop_url=url + "/x", token_env=TOKEN_ENV
        )
        out[kind] = customers_run(connection).message
    return out


def test_run_errors_do_not_map_the_ports_of_the_servers_own_host(
    ports, monkeypatch, private_refused
):
    messages = _messages(ports, monkeypatch)
    assert len(set(messages.values())) == 1, messages


def test_where_private_networks_are_allowed_a_network_failure_echoes_nothing(
    ports, monkeypatch, settings
):
    settings.SYNC_ALLOW_PRIVATE_NETWORKS = True
    messages = _messages(ports, monkeypatch)
    assert messages["closed"] == messages["babble"] == "could not reach the store"


# --- The one chokepoint ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:10.0.0.1",
    ],
)
def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(
    monkeypatch, private_refused, address
):
    connected = []
    monkeypatch.setattr(transport, "resolve", lambda host, port: [address])
    monkeypatch.setattr(transport.socket, "create_connection", lambda *a, **k: connected.append(a))
    with pytest.raises(AddressRefused):
        StoreAccess("https://shop.example.com").get("https://shop.example.com/x")
    assert connected == []


def test_the_address_checked_is_the_address_connected_to(monkeypatch, private_refused):
    # DNS rebinding: a name that answers a public address once and a private one after.
    answers = iter([["93.184.215.14"], ["127.0.0.1"], ["127.0.0.1"]])
    connected = []

    def refuse(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError

    monkeypatch.setattr(transport, "resolve", lambda host, port: next(answers))
    monkeypatch.setattr(transport.socket, "create_connection", refuse)
    with pytest.raises(StoreUnavailable, match=r"^could not reach the store$"):
        StoreAccess("https://shop.example.com").get("https://shop.example.com/x")
    assert connected == [("93.184.215.14", 443)]


def test_a_name_giving_a_public_and_a_private_address_is_refused(monkeypatch, private_refused):
    connected = []
    monkeypatch.setattr(transport, "resolve", lambda host, port: ["93.184.215.14", "10.0.0.1"])
    monkeypatch.setattr(transport.socket, "create_connection", lambda *a, **k: connected.append(a))
    with pytest.raises(AddressRefused):
        StoreAccess("https://shop.example.com").get("https://shop.example.com/x")
    assert connected == []


def test_each_checked_address_is_tried_in_turn(monkeypatch, private_refused):
    # A store with IPv6 and IPv4 addresses is still reached from a host without IPv6.
    connected = []

    def refuse(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError

    monkeypatch.setattr(transport, "resolve", lambda host, port: ["2606:4700::1", "1.1.1.1"])
    monkeypatch.setattr(transport.socket, "create_connection", refuse)
    with pytest.raises(StoreUnavailable, match=r"^could not reach the store$"):
        StoreAccess("https://shop.example.com").get("https://shop.example.com/x")
    assert connected == [("2606:4700::1", 443), ("1.1.1.1", 443)]


TLS_PEM = Path(__file__).parents[1] / "fakes" / "tls" / "shop-test.pem"  # for shop.test


@pytest.fixture
def tls_store(monkeypatch, settings):
    """An https store on 127.0.0.1 whose certificate names shop.test, trusted by sync."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(self.headers.get("Host"))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS_PEM)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.SYNC_ALLOW_PRIVATE_NETWORKS = True
    trusted = ssl.create_default_context
    monkeypatch.setattr(transport.ssl, "create_default_context", lambda: trusted(cafile=TLS_PEM))
    monkeypatch.setattr(transport, "resolve", lambda host, port: ["127.0.0.1"])
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_https_goes_to_the_checked_address_and_verifies_the_stores_name(tls_store):
    port, seen = tls_store
    answer = StoreAccess(f"https://shop.test:{port}").get(f"https://shop.test:{port}/x")
    assert (answer.status, answer.body, seen) == (200, b"{}", [f"shop.test:{port}"])
    with pytest.raises(StoreUnavailable, match=r"^could not reach the store$"):
        StoreAccess(f"https://other.test:{port}").get(f"https://other.test:{port}/x")
    assert len(seen) == 1  # a certificate for another name: nothing was asked


def test_no_connector_reaches_a_refused_address(shop, private_refused):
    shop.store.customers = [shopper(1)]
    for make in (lambda: ShopifyClient(shop.url, TOKEN), lambda: FeedSource(shop.url)):
        with pytest.raises(AddressRefused):
            client = make()
            list(client.pages("customers"))
    assert shop.store.requests == []


NETWORK_AND_FILES = {"socket", "ssl", "http", "urllib.request", "requests", "httpx", "urllib3"}
FILE_CALLS = {"open", "read_text", "read_bytes", "urlopen", "listdir", "scandir"}


def test_only_the_transport_module_reaches_the_network_or_the_files():
    package = Path(ordersight.sync.__file__).parent
    sources = [*package.rglob("*.py")]
    sources += [package.parent / "api" / "sync.py", package.parent / "web" / "sync.py"]
    offenders = []
    for source in sources:
        if source.name == "transport.py" and source.parent == package:
            continue
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n == m or n.startswith(m + ".") for n in names for m in NETWORK_AND_FILES):
                offenders.append(f"{source.name}:{node.lineno} imports {names}")
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else None
                called = called or (node.func.id if isinstance(node.func, ast.Name) else None)
                if called in FILE_CALLS:
                    offenders.append(f"{source.name}:{node.lineno} calls {called}")
    assert offenders == []


# --- IPv6 forms carrying an IPv4 address -----------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    [
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
        "::ffff:0:a9fe:a9fe",  # IPv4-translated 169.254.169.254
        "::ffff:169.254.169.254",  # IPv4-mapped
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b:1:a9fe:a9:fe00::",  # local-use NAT64 (/48) of 169.254.169.254
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2001:0:4136:e378:8000:63bf:5601:5601",  # Teredo, client 169.254.169.254 (inverted)
    ],
)
def test_an_ipv6_form_of_a_refused_ipv4_address_is_refused(private_refused, ip):
    """The address connected to is the IPv4 one inside: it is checked by the same rules."""
    assert transport.address_refusal(ip, scheme="https") is not None
    assert transport.url_refusal(f"https://[{ip}]/", files=False) is not None


@pytest.mark.parametrize(
    "ip", ["::ffff:a9fe:a9fe", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "::a9fe:a9fe"]
)
def test_an_ipv6_form_of_link_local_is_refused_even_where_private_networks_are_allowed(
    settings, ip
):
    settings.SYNC_ALLOW_PRIVATE_NETWORKS = True
    assert transport.address_refusal(ip, scheme="https") is not None


@pytest.mark.parametrize("ip", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"])
def test_an_ipv6_form_of_a_public_address_is_a_store_address(private_refused, ip):
    assert transport.address_refusal(ip, scheme="https") is None


# --- File addresses the file system cannot take -----------------------------------------------


@pytest.mark.parametrize("tail", ["a%00b", "main/%00", "%2500%00"])
def test_a_file_address_with_a_nul_is_refused_as_an_address(api, settings, tmp_path, tail):
    settings.SYNC_FILE_ROOT = str(tmp_path)
    url = f"{tmp_path.as_uri()}/{tail}"
    response = api.post("sync/connections", {"name": "f", "platform": "feed", "shop_url": url})
    assert response.status_code == 422
    assert "shop_url" in response.json()["error"]["fields"]


def test_a_stored_file_feed_with_a_nul_fails_its_run_without_reading(settings, tmp_path):
    settings.SYNC_FILE_ROOT = str(tmp_path)
    connection = StoreConnection.objects.create(
        name="files", platform="feed", shop_url=f"{tmp_path.as_uri()}/a%00b"
    )
    run = customers_run(connection)
    assert run.status == "failed" and "refused" in run.message and run.received == 0


def test_a_feed_file_that_cannot_be_read_fails_the_run(settings, tmp_path):
    settings.SYNC_FILE_ROOT = str(tmp_path)
    (tmp_path / "customers.jsonl").symlink_to(tmp_path / "customers.jsonl")  # a loop
    connection = StoreConnection.objects.create(
        name="files", platform="feed", shop_url=tmp_path.as_uri()
    )
    run = customers_run(connection)
    assert run.status == "failed" and run.received == 0
