"""deploy/: the compose file's services and nginx's configuration, checked by nginx itself.

The configuration tested is deploy/nginx.conf itself, rendered for loopback ports
(tests/cluster.py `render`), not a copy. The requests through it: tests/test_cluster.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.cluster import (
    NGINX_CONF,
    TELEGRAM_PORT,
    WECOM_PORT,
    Ports,
    nginx_command,
    nginx_main,
    render,
)
from tests.harness import ROOT

DEPLOY = ROOT / "deploy"
LOCAL = [Ports(20001, 20002), Ports(20011, 20012), Ports(20021, 20022)]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))
    return loaded


def upstreams(conf: str) -> dict[str, list[str]]:
    """Each upstream's server addresses, in order."""
    return {
        name: re.findall(r"^\s*server\s+(\S+)", body, re.MULTILINE)
        for name, body in re.findall(r"upstream\s+(\w+)\s*\{([^}]*)\}", conf)
    }


def test_nginx_accepts_the_configuration_rendered_for_loopback(tmp_path: Path) -> None:
    conf = NGINX_CONF.read_text("utf-8")
    (tmp_path / "fengong.conf").write_text(render(conf, LOCAL[:2], 20000), "utf-8")
    nginx_main(tmp_path)
    checked = subprocess.run(
        nginx_command(tmp_path, "-t"), capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_rendering_changes_only_the_upstream_servers_and_the_port() -> None:
    conf = NGINX_CONF.read_text("utf-8")
    rendered = render(conf, LOCAL, 20000)
    wecom = [f"127.0.0.1:{p.wecom}" for p in LOCAL]
    telegram = [f"127.0.0.1:{p.telegram}" for p in LOCAL]
    assert upstreams(rendered) == {
        "fengong_wecom": wecom,
        "fengong_telegram": telegram,
        "fengong_health": [a for pair in zip(wecom, telegram, strict=True) for a in pair],
    }
    assert "listen 127.0.0.1:20000;" in rendered
    # Everything else as written: the same lines once the servers and the port are taken out.
    def rest(text: str) -> list[str]:
        return [
            line
            for line in text.splitlines()
            if not re.match(r"\s*(server\s+\S+:\d+|listen\s)", line)
        ]

    assert rest(rendered) == rest(conf)


def test_every_upstream_server_is_a_bot_instance_of_the_compose_file() -> None:
    services = compose()["services"]
    bots = sorted(name for name in services if name.startswith("bot"))
    assert len(bots) >= 2
    for name, servers in upstreams(NGINX_CONF.read_text("utf-8")).items():
        hosts = sorted({s.split(":")[0] for s in servers})
        assert hosts == bots, name
        assert {int(s.split(":")[1]) for s in servers} <= {WECOM_PORT, TELEGRAM_PORT}, name
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in services["nginx"]["volumes"]
    assert set(services["nginx"]["depends_on"]) == set(bots)


def test_the_instances_take_the_database_from_the_env_file_and_one_sets_the_webhook() -> None:
    services = compose()["services"]
    bots = [services[name] for name in services if name.startswith("bot")]
    for bot in bots:
        assert bot["env_file"] == ".env"
        assert bot["build"] == {"context": "..", "dockerfile": "Dockerfile"}
        assert "FENGONG_DB" not in bot.get("environment", {})  # a secret: in .env only
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    setters = [b["environment"]["TELEGRAM_SET_WEBHOOK"] for b in bots]
    assert sorted(setters) == ["0"] * (len(bots) - 1) + ["1"]
    example = (DEPLOY / ".env.example").read_text("utf-8")
    assert re.search(r"^FENGONG_DB=postgresql://", example, re.MULTILINE)
    ignored = (ROOT / ".gitignore").read_text("utf-8").split()
    assert "deploy/.env" in ignored


def test_no_secret_is_written_in_the_compose_file() -> None:
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|KEY|FENGONG_DB", key):
                assert str(value).startswith("${"), (name, key)  # from deploy/.env


def test_the_image_holds_the_bots_bytecode() -> None:
    """The container writes no bytecode (PYTHONDONTWRITEBYTECODE): compiled when the image is
    built, else every start (`python -m bot ask`) compiles each module of the bot again."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "PYTHONDONTWRITEBYTECODE=1" in dockerfile
    compiled = re.search(r"^RUN python -m compileall -q (.+)$", dockerfile, re.MULTILINE)
    assert compiled is not None
    assert compiled.group(1).split() == ["bot", "handlers"]
    assert dockerfile.index("COPY bot ./bot") < compiled.start()
