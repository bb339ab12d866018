"""Configuration from the environment (secrets, paths) and an optional YAML file (schedule)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.plan import DATA_DIR

DEFAULT_DB = Path("var/fengong.db")


class ConfigError(ValueError):
    """The configuration is invalid; the message says which setting and why."""


@dataclass(frozen=True)
class ReminderConfig:
    """When year-end reminders go out (issue: reporting reminders)."""

    deadline: tuple[int, int] = (12, 31)
    days_before: tuple[int, ...] = (30, 14, 7, 3, 1)
    time_of_day: dt.time = dt.time(9, 0)
    timezone: str = "Asia/Shanghai"
    years: tuple[int, ...] = ()  # empty: the plan's period
    grace_days: int = 2
    thank_complete: bool = True  # send "已全部报送，谢谢" to units with nothing missing


@dataclass(frozen=True)
class Config:
    """Everything the bot reads from its environment."""

    telegram_token: str | None = None
    telegram_base_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    db_path: Path = DEFAULT_DB
    data_dir: Path = DATA_DIR
    coordinators: frozenset[str] = frozenset()
    reminders: ReminderConfig = field(default_factory=ReminderConfig)


def _reminders(path: Path) -> ReminderConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: 配置文件不存在（FENGONG_CONFIG）") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: YAML 格式错误: {e}") from None
    section = raw.get("reminders", {}) if isinstance(raw, Mapping) else None
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}: reminders 必须是映射")
    return _parse_reminders(path, section)


def _parse_reminders(path: Path, raw: Mapping[str, Any]) -> ReminderConfig:
    base = ReminderConfig()
    try:
        month, day = (int(p) for p in str(raw.get("deadline", "12-31")).split("-"))
        dt.date(2024, month, day)  # a leap year, so that 02-29 is accepted
        hour, minute = (int(p) for p in str(raw.get("time", "09:00")).split(":"))
        days = tuple(
            sorted({int(d) for d in raw.get("days_before", base.days_before)}, reverse=True)
        )
        years_raw = raw.get("years", [])
        if isinstance(years_raw, str) and "-" in years_raw:
            first, last = (int(p) for p in years_raw.split("-"))
            years = tuple(range(first, last + 1))
        else:
            years = tuple(int(y) for y in years_raw)
        return ReminderConfig(
            deadline=(month, day),
            days_before=days,
            time_of_day=dt.time(hour, minute),
            timezone=str(raw.get("timezone", base.timezone)),
            years=years,
            grace_days=int(raw.get("grace_days", base.grace_days)),
            thank_complete=bool(raw.get("thank_complete", base.thank_complete)),
        )
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{path}: reminders 配置有误: {e}") from None


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Read the configuration from environment variables (and FENGONG_CONFIG's YAML file)."""
    env = os.environ if env is None else env
    coordinators = frozenset(
        c.strip() for c in env.get("FENGONG_COORDINATORS", "").split(",") if c.strip()
    )
    config_file = env.get("FENGONG_CONFIG")
    try:
        port = int(env.get("TELEGRAM_WEBHOOK_PORT", "8443"))
    except ValueError:
        raise ConfigError("TELEGRAM_WEBHOOK_PORT 必须是端口号") from None
    return Config(
        telegram_token=env.get("TELEGRAM_BOT_TOKEN") or None,
        telegram_base_url=env.get("TELEGRAM_API_BASE_URL") or None,
        webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
        webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
        webhook_port=port,
        db_path=Path(env.get("FENGONG_DB", str(DEFAULT_DB))),
        data_dir=Path(env["FENGONG_DATA"]) if env.get("FENGONG_DATA") else DATA_DIR,
        coordinators=coordinators,
        reminders=_reminders(Path(config_file)) if config_file else ReminderConfig(),
    )
