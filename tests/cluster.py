"""Several `python -m bot run` processes behind nginx, as deploy/ runs them, on loopback only.

deploy/compose.yaml runs the instances and nginx in containers; Docker does not run here, so
`cluster` runs the same topology as processes: N bot instances (each its WeCom callback server,
and its Telegram webhook server when a fake Bot API is given, on free ports), one database
(an SQLite file, or a `postgresql://` URL once the store speaks it), and nginx in front on a
free port with deploy/nginx.conf itself, rendered for loopback (`render`: only the upstream
servers' addresses and the listening port change). The fake WeCom API is shared by all.

Each instance's output goes to its own log file (a pipe nobody reads would stall it); `logs()`
gives them for an assertion's message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.bot_api import FakeBotApi
from tests.fakes.wecom_api import FakeWeComApi
from tests.fakes.wecom_callback import WeComCallbackClient
from tests.harness import ROOT
from tests.test_wecom_run import free_port
from tests.wecom_harness import AES_KEY, CALLBACK_TOKEN, env_for

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
NGINX = os.environ.get("FENGONG_NGINX", "/usr/sbin/nginx")
# The instances' ports in deploy/ (the image's defaults: WECOM_PORT, TELEGRAM_WEBHOOK_PORT).
WECOM_PORT, TELEGRAM_PORT = 8080, 8443
WEBHOOK_SECRET = "cluster-webhook-secret"
START_SECONDS = 60.0  # for an instance to answer /healthz (two cores shared by many tests)
STOP_SECONDS = 30.0

_UPSTREAM = re.compile(r"upstream\s+\w+\s*\{[^}]*\}")
_SERVER = re.compile(r"^([ \t]*)server\s+([\w.-]+):(\d+)([^;\n]*);\n", re.MULTILINE)
_LISTEN = re.compile(r"^([ \t]*)listen\s+80;", re.MULTILINE)


def need_nginx() -> str:
    """Return nginx's path; without it fail under CI=true (.ci/nginx.sh installs it), else skip."""
    found = shutil.which(NGINX) or shutil.which("nginx")
    if found is None:
        why = f"nginx 不可用（{NGINX}）：运行 .ci/nginx.sh 安装"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return found


@dataclass(frozen=True)
class Ports:
    """One instance's listening ports: WeCom's callback server, Telegram's webhook server."""

    wecom: int
    telegram: int

    def of(self, deployed: int) -> int:
        """The local port standing for the port the instance has in deploy/."""
        return {WECOM_PORT: self.wecom, TELEGRAM_PORT: self.telegram}[deployed]


def render(conf: str, instances: Sequence[Ports], listen: int) -> str:
    """deploy/nginx.conf for loopback: each upstream names every instance's local ports.

    An upstream's servers name hosts (bot1, bot2 …) and the ports each has in deploy/: they
    become one server per instance and port, on 127.0.0.1, with the parameters the file gives.
    """

    def servers(block: re.Match[str]) -> str:
        lines = list(_SERVER.finditer(block[0]))
        assert lines, f"upstream without servers: {block[0]}"
        first = lines[0][2]
        ports = [(m[1], int(m[3]), m[4]) for m in lines if m[2] == first]  # one host's ports
        ours = "".join(
            f"{indent}server 127.0.0.1:{local.of(port)}{params};\n"
            for local in instances
            for indent, port, params in ports
        )
        head = block[0][: lines[0].start()]
        rest = _SERVER.sub("", block[0][lines[0].start() :])
        return head + ours + rest

    rendered, upstreams = _UPSTREAM.subn(servers, conf)
    rendered, listens = _LISTEN.subn(rf"\1listen 127.0.0.1:{listen};", rendered)
    assert upstreams, "deploy/nginx.conf has no upstream"
    assert listens == 1, "deploy/nginx.conf has not one `listen 80;`"
    return rendered


def nginx_main(folder: Path) -> Path:
    """Write nginx's main configuration around the rendered deploy/nginx.conf in `folder`.

    What the nginx image's own nginx.conf does: the http block including our file. Everything
    nginx writes (pid, error log, temporary files) stays in `folder`.
    """
    # Started by root, nginx's workers would run as nobody, who may not enter tmp_path.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = folder / "nginx.conf"
    main.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 512; }\n"
        f"http {{\n{temp}    include {folder / 'fengong.conf'};\n}}\n",
        encoding="utf-8",
    )
    return main


def nginx_command(folder: Path, *args: str) -> list[str]:
    """nginx with the main configuration in `folder` (and its startup errors logged there)."""
    main, log = folder / "nginx.conf", folder / "error.log"
    return [need_nginx(), "-p", str(folder), "-c", str(main), "-e", str(log), *args]


@dataclass
class Instance:
    """One `python -m bot run`: its ports, environment and log; `process` while it runs."""

    name: str
    ports: Ports
    env: dict[str, str]
    log: Path
    process: asyncio.subprocess.Process | None = None


@dataclass
class Cluster:
    """The instances, nginx in front on `port`, and the fake WeCom API they all call."""

    wecom_api: FakeWeComApi
    instances: list[Instance]
    port: int
    folder: Path
    nginx: asyncio.subprocess.Process | None = None
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)

    def url(self, path: str) -> str:
        """nginx's URL for `path`: where WeCom, Telegram and the balancer reach the bot."""
        return f"http://127.0.0.1:{self.port}{path}"

    def callbacks(self) -> WeComCallbackClient:
        """WeCom's side: callbacks signed and encrypted as WeCom sends them, to nginx."""
        return WeComCallbackClient(
            self.url("/wecom"),
            token=CALLBACK_TOKEN,
            encoding_aes_key=AES_KEY,
            corp_id=self.wecom_api.corp_id,
            agent_id=self.wecom_api.agent_id,
        )

    async def get(self, url: str) -> int:
        """GET `url`; its status (0 when nothing answers)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._session.get(url) as response:
                return response.status
        except aiohttp.ClientConnectionError:
            return 0

    async def start(self, index: int) -> None:
        """Start instance `index` and wait until each of its servers' /healthz answers 200."""
        instance = self.instances[index]
        assert instance.process is None or instance.process.returncode is not None
        with instance.log.open("ab") as log:
            instance.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run",
                cwd=ROOT, env=instance.env, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        ports = [instance.ports.wecom]
        if "TELEGRAM_WEBHOOK_PORT" in instance.env:
            ports.append(instance.ports.telegram)
        for port in ports:
            await self._until_healthy(f"http://127.0.0.1:{port}/healthz", instance.process)

    async def start_all(self, indexes: Sequence[int] | None = None) -> None:
        """Start instances `indexes` (all by default) at once; wait until each is healthy."""
        chosen = range(len(self.instances)) if indexes is None else indexes
        await asyncio.gather(*(self.start(n) for n in chosen))

    async def stop_all(self, indexes: Sequence[int] | None = None) -> list[int]:
        """Stop instances `indexes` (all by default) at once; return their exit statuses."""
        chosen = range(len(self.instances)) if indexes is None else indexes
        return list(await asyncio.gather(*(self.stop(n) for n in chosen)))

    async def kill(self, index: int) -> None:
        """kill -9 instance `index`, and wait until it is gone."""
        process = self.instances[index].process
        assert process is not None
        assert process.returncode is None
        process.kill()
        await process.wait()

    async def stop(self, index: int) -> int:
        """Stop instance `index` as an operator would (SIGTERM); return its exit status."""
        process = self.instances[index].process
        assert process is not None
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(STOP_SECONDS):
                await process.wait()
        assert process.returncode is not None
        return process.returncode

    async def healthy(self) -> None:
        """Wait until nginx's /healthz answers 200 (an instance is back and nginx sees it)."""
        assert self.nginx is not None
        await self._until_healthy(self.url("/healthz"), self.nginx)

    async def _until_healthy(self, url: str, process: asyncio.subprocess.Process) -> None:
        """Wait until `url` answers 200 while `process` runs; fail with the logs otherwise."""
        try:
            async with asyncio.timeout(START_SECONDS):
                while await self.get(url) != 200:
                    assert process.returncode is None, f"{url}: exited\n{self.logs()}"
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(f"{url}: not healthy\n{self.logs()}") from None

    def logs(self) -> str:
        """Every instance's output and nginx's error log, for an assertion's message."""
        parts = [f"--- {i.name}\n{_read(i.log)}" for i in self.instances]
        return "\n".join([*parts, f"--- nginx\n{_read(self.folder / 'error.log')}"])


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def instance_env(
    ports: Ports,
    wecom_api: FakeWeComApi,
    db: str,
    telegram: tuple[FakeBotApi, str] | None,
    setter: bool,
) -> dict[str, str]:
    """The environment of one instance: WeCom on its port, Telegram by webhook when given."""
    ours = ("TELEGRAM_", "FENGONG_", "WECOM_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env |= env_for(wecom_api, ports.wecom) | {"FENGONG_DB": db, "PTB_TIMEDELTA": "true"}
    env["FENGONG_WEB_PORT"] = "off"  # the console's port would be the same for all instances
    env["FENGONG_INSTANCE"] = f"bot-{ports.wecom}"  # one name each, as on separate hosts
    if telegram is not None:
        api, url = telegram
        env |= {
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TELEGRAM_WEBHOOK_URL": url,
            "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1",
            "TELEGRAM_WEBHOOK_PORT": str(ports.telegram),
            "TELEGRAM_SET_WEBHOOK": "1" if setter else "0",  # one instance sets it
        }
    return env


@contextlib.asynccontextmanager
async def cluster(
    folder: Path,
    wecom_api: FakeWeComApi,
    db: str | Path,
    count: int = 1,
    *,
    telegram: FakeBotApi | None = None,
    extra: Mapping[str, str] | None = None,
) -> AsyncIterator[Cluster]:
    """Run `count` instances on database `db` behind nginx; stop them all afterwards.

    `telegram`: the fake Bot API; each instance then also serves the webhook (via nginx's
    /telegram), and the first sets it. `extra`: more environment for every instance.
    """
    port = free_port()
    ports = [Ports(free_port(), free_port()) for _ in range(count)]
    hook = (telegram, f"http://127.0.0.1:{port}/telegram") if telegram is not None else None
    instances = [
        Instance(
            f"bot{n + 1}",
            local,
            instance_env(local, wecom_api, str(db), hook, n == 0) | dict(extra or {}),
            folder / f"bot{n + 1}.log",
        )
        for n, local in enumerate(ports)
    ]
    (folder / "fengong.conf").write_text(
        render(NGINX_CONF.read_text(encoding="utf-8"), ports, port), encoding="utf-8"
    )
    nginx_main(folder)
    running = Cluster(wecom_api, instances, port, folder)
    try:
        running.nginx = await asyncio.create_subprocess_exec(*nginx_command(folder))
        # The first alone (it migrates a new SQLite file), then the others at once, as
        # compose starts them: each waits on its own start, not on the others'.
        await running.start(0)
        await running.start_all(range(1, count))
        await running.healthy()
        yield running
    finally:

        async def end(n: int, instance: Instance) -> None:
            if instance.process is not None and instance.process.returncode is None:
                with contextlib.suppress(TimeoutError):
                    await running.stop(n)
                if instance.process.returncode is None:
                    instance.process.kill()
                    await instance.process.wait()

        await asyncio.gather(*(end(n, i) for n, i in enumerate(instances)))
        if running.nginx is not None and running.nginx.returncode is None:
            running.nginx.terminate()
            await running.nginx.wait()
        if running._session is not None:
            await running._session.close()
