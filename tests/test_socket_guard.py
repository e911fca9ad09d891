"""The suite cannot reach the internet: only loopback connections get through."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.conftest import NetworkAccessDenied


def test_a_public_address_is_refused_before_any_packet_leaves() -> None:
    with socket.socket() as sock, pytest.raises(NetworkAccessDenied):
        sock.connect(("203.0.113.7", 443))  # TEST-NET-3: never routable anyway


async def test_http_clients_are_refused_too() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get("http://198.51.100.1/")
    causes = []
    error: BaseException | None = caught.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(e, NetworkAccessDenied) for e in causes)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
            accepted, _ = server.accept()
            with accepted:
                client.sendall(b"ping")
                assert accepted.recv(4) == b"ping"
