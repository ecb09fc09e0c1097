"""The outbound-destination policy: its address rules, and its guards on real connections
(httpx for model endpoints, aiohttp for callbacks) against local servers. The API-level
probes are in tests/test_security.py."""

import asyncio
import concurrent.futures
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp
import httpx
import pytest
from automation_helpers import serve
from conftest import free_port
from outbound_helpers import Listener

from assay.outbound import (
    STRICT,
    OutboundPolicy,
    RefusedField,
    destination,
    literal_address,
    refusal,
)

LOCAL = OutboundPolicy(allow_private=True)
ASSAY = str(Path(sys.executable).parent / "assay")


def run(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([ASSAY, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("fc00::1", "unique-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("10.0.0.1", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "private"),  # documentation range: not routable
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
        ("::ffff:8.8.8.8", None),
        ("2002:808:808::", None),
    ],
)
def test_each_kind_of_non_public_address_is_named(address, kind):
    assert refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "host",
    ["2130706433", "0x7f.1", "0x7f000001", "017700000001", "0177.0.0.1", "127.1", "127.0.0.1"],
)
def test_every_notation_of_an_ipv4_address_is_read(host):
    assert literal_address(host) == ipaddress.ip_address("127.0.0.1")


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4 x", "127.0.0.1.evil.com", "0x7g.1"])
def test_names_are_not_read_as_addresses(host):
    assert literal_address(host) is None


def test_urls_are_grouped_by_scheme_host_and_port():
    assert destination("HTTPS://Example.com/a?b") == destination("https://example.com:443/c")
    assert destination("http://example.com/") == "http://example.com:80"
    assert destination("http://[::1]:8080/x") == "http://[::1]:8080"
    assert destination("http://h:99999/") == "http://h:99999/"  # malformed, never raises
    assert destination("http://[::1/") == "http://[::1/"


def test_hosts_are_refused_before_any_connection():
    for host in ("localhost", "LOCALHOST.", "x.localhost", "127.0.0.1.", "::1", "2130706433"):
        assert "allow-private-urls" in STRICT.host_refusal(host.lower()), host
    assert STRICT.host_refusal("") == "the URL names no host"
    with pytest.raises(RefusedField, match="cannot be read"):
        STRICT.check_field("url", "http://[::1/")
    assert STRICT.host_refusal("8.8.8.8") is None
    assert LOCAL.host_refusal("localhost") is None


def _post(client: httpx.Client, url: str):
    try:
        return client.post(url, json={})
    except httpx.ConnectError as exc:
        return exc


def test_the_httpx_guard_refuses_a_name_that_resolves_to_loopback():
    with Listener() as listener:
        with STRICT.http_client(timeout=5) as client:
            for host in ("localhost", "127.0.0.1", "[::ffff:127.0.0.1]", "2130706433"):
                refused = _post(client, f"http://{host}:{listener.port}/")
                assert isinstance(refused, httpx.ConnectError), host
                assert "not a public address" in str(refused)
        assert listener.connections == 0
        # Allowed, it connects (and gets no answer: the listener only counts).
        with LOCAL.http_client(timeout=5) as client, pytest.raises(httpx.TransportError):
            client.post(f"http://localhost:{listener.port}/", json={})
        assert wait_until(lambda: listener.connections == 1)


def test_the_guard_checks_the_address_resolved_at_connection_time(monkeypatch):
    """DNS rebinding: a name that pointed somewhere public when the URL was checked
    resolves to 127.0.0.1 when the request is made."""
    real, lookups = socket.getaddrinfo, []

    def rebinding(host, *args, **kwargs):
        if host == "rebind.example":
            lookups.append(host)
            host = "93.184.215.14" if len(lookups) == 1 else "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with Listener() as listener:
        url = f"http://rebind.example:{listener.port}/hook"
        assert STRICT.host_refusal("rebind.example") is None  # checked when stored: public
        with STRICT.http_client(timeout=5) as client:
            assert "not a public address" in str(_post(client, url))
        assert "not a public address" in in_own_loop(_aiohttp_post(STRICT, url))
    assert listener.connections == 0


def in_own_loop(coroutine):
    """Run a coroutine to its end in a thread of its own: the browser tests' Playwright
    keeps an event loop running in the main thread of the test process."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _aiohttp_post(policy: OutboundPolicy, url: str) -> str:
    async with aiohttp.ClientSession(connector=policy.connector()) as session:
        try:
            async with session.post(url, data=b"{}", allow_redirects=False) as response:
                return str(response.status)
        except aiohttp.ClientError as exc:
            return str(exc)


def test_the_aiohttp_guard_refuses_loopback_names_and_addresses():
    with Listener() as listener:
        for host in ("localhost", "127.0.0.1", "[::ffff:127.0.0.1]", "2130706433"):
            answer = in_own_loop(_aiohttp_post(STRICT, f"http://{host}:{listener.port}/"))
            assert "not a public address" in answer or "not a canonical" in answer, answer
    assert listener.connections == 0


class _Redirect(BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(307)
        self.send_header("Location", self.server.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_redirects_are_not_followed():
    with serve(lambda *_: (200, {})) as (target, received):
        origin = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
        origin.target = target
        threading.Thread(target=origin.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{origin.server_address[1]}/hook"
        try:
            with LOCAL.http_client(timeout=5) as client:
                assert client.post(url, json={}).status_code == 307
            assert in_own_loop(_aiohttp_post(LOCAL, url)) == "307"
        finally:
            origin.shutdown()
            origin.server_close()
    assert received == []


def wait_until(predicate, timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_serve_allows_private_urls_only_when_asked_and_says_so(tmp_path):
    """`ASSAY_ALLOW_PRIVATE_URLS=1` (or --allow-private-urls) reaches every server process
    and the start banner says it."""
    port = free_port()
    run("migrate", "--data-dir", str(tmp_path))
    key = run("keys", "create", "--role", "admin", "--data-dir", str(tmp_path))
    key = key.stdout.strip().splitlines()[-1]
    proc = subprocess.Popen(
        [ASSAY, "serve", "--port", str(port), "--data-dir", str(tmp_path), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"ASSAY_ALLOW_PRIVATE_URLS": "1"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: _healthy(url), 60), "server did not start"
        headers = {"Authorization": f"Bearer {key}"}
        for _ in range(6):  # the two processes take turns answering
            created = httpx.post(
                f"{url}/v1/projects",
                headers=headers,
                json={
                    "name": "dev",
                    "kind": "categorization",
                    "params": {"labels": ["a", "b"]},
                    "callback_url": "http://127.0.0.1:9000/hook",
                },
            )
            assert created.status_code == 201, created.text
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0]
    assert "private URLs are allowed" in output
    assert "--allow-private-urls" in run("worker", "--help").stdout


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz").status_code == 200
    except httpx.TransportError:
        return False
