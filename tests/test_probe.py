"""Docker's HEALTHCHECK probe, against a real aiohttp server answering /healthz."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from handlers.probe import health_url, probe

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def healthz() -> AsyncIterator[tuple[int, list[int]]]:
    """A server on a free port whose /healthz answers the status at the head of the list."""
    statuses = [200]

    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=statuses[0], text="ok" if statuses[0] == 200 else "down")

    app = web.Application()
    app.router.add_get("/healthz", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield port, statuses
    finally:
        await runner.cleanup()


async def test_the_probe_asks_the_wecom_server(healthz: tuple[int, list[int]]) -> None:
    port, statuses = healthz
    env = {"WECOM_CORP_ID": "ww1", "WECOM_PORT": str(port)}
    assert await asyncio.to_thread(probe, env) == 0
    statuses[0] = 503
    assert await asyncio.to_thread(probe, env) == 1


async def test_the_probe_asks_the_telegram_webhook_server(healthz: tuple[int, list[int]]) -> None:
    port, _ = healthz
    env = {"TELEGRAM_WEBHOOK_URL": "https://x/telegram", "TELEGRAM_WEBHOOK_PORT": str(port)}
    assert await asyncio.to_thread(probe, env) == 0


def test_no_server_listening_is_unhealthy() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert probe({"WECOM_CORP_ID": "ww1", "WECOM_PORT": str(port)}, timeout=2) == 1


def test_long_polling_runs_no_server_and_passes() -> None:
    assert health_url({"TELEGRAM_BOT_TOKEN": "1:a"}) is None
    assert probe({"TELEGRAM_BOT_TOKEN": "1:a"}) == 0


def test_the_dockerfile_exposes_the_ports_and_runs_the_probe() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "EXPOSE 8080 8443" in dockerfile
    assert 'CMD ["python", "-m", "handlers.probe"]' in dockerfile
    assert "HEALTHCHECK" in dockerfile


def test_the_readme_docker_example_mounts_a_writable_data_folder_at_fengong_data() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    docker = readme[readme.index("## Docker") :]
    example = docker[: docker.index("```", docker.index("```") + 3)]
    [data] = re.findall(r"FENGONG_DATA=(\S+)", example)
    mounts = re.findall(r'-v "?([^\s"]+)"?', example)
    assert any(m.endswith(f":{data}") for m in mounts), mounts  # writable: no :ro
    assert not any(m.endswith(":ro") for m in mounts)
    assert "long polling" in docker
    assert "always passes" in docker
