"""Configuration from the environment (secrets, paths) and an optional YAML file (schedule)."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import yaml

from bot.documents.plan import DATA_DIR, yaml_error

DEFAULT_DB = Path("var/fengong.db")
DEFAULT_CACHE = Path("var/cache")
# How long a member's lease lasts unrenewed (bot/inbox.py): how soon another instance takes
# over the members of one that died (renewed at every commit, and every third of it while
# handling is slow). Here, not in the inbox, so that reading the settings loads no store.
LEASE_TTL = dt.timedelta(seconds=30)

_T = TypeVar("_T")


class ConfigError(ValueError):
    """The configuration is invalid; the message says which setting and why."""


def _hostname() -> str:
    """Return this machine's name (socket.gethostname's, without importing socket: 4 ms)."""
    return os.uname().nodename


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
    # False: another instance tells Telegram the webhook (TELEGRAM_SET_WEBHOOK=0); this one
    # only receives, checking the secret all instances share.
    set_webhook: bool = True
    db_path: Path = DEFAULT_DB
    # FENGONG_DB as a postgresql:// URL: the store is that PostgreSQL database, not db_path.
    # Its password is a secret: kept out of repr (and masked in the log, bot/redact.py).
    db_url: str | None = field(default=None, repr=False)
    data_dir: Path = DATA_DIR
    coordinators: frozenset[str] = frozenset()
    reminders: ReminderConfig = field(default_factory=ReminderConfig)
    # The folder (under data_dir) of the document answered when a chat chose none; "": the
    # data folder's own document, else the first folder by name.
    default_doc: str = ""
    # A WeCom group robot's webhook URL: the coordinators' summary is posted there too. A
    # secret (whoever holds it can post into the group), kept out of repr and of the log.
    group_webhook: str | None = field(default=None, repr=False)
    # This instance's name among several on one database (FENGONG_INSTANCE, else the host's
    # name): whoever holds the reminder lease sends; the same name restarted takes it back.
    instance: str = field(default_factory=_hostname)
    # FENGONG_INSTANCE given: other instances share the database (on SQLite too).
    named: bool = False
    # How long a member's lease lasts unrenewed (FENGONG_LEASE_SECONDS): how soon another
    # instance takes over the members of one that died (bot/inbox.py).
    lease: dt.timedelta = LEASE_TTL
    # Where `python -m bot ask` keeps the compiled form of the patterns it uses and what it
    # derives from a document (FENGONG_CACHE; bot/documents/pattern.py); None: made anew in
    # every process.
    cache: Path | None = DEFAULT_CACHE

    @property
    def database(self) -> str | Path:
        """What the store opens: the PostgreSQL URL, else the SQLite file."""
        return self.db_url or self.db_path


def _reminders(path: Path) -> ReminderConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: 配置文件不存在（FENGONG_CONFIG）") from None
    except yaml.YAMLError as e:
        raise ConfigError(yaml_error(path, e)) from None
    section = raw.get("reminders", {}) if isinstance(raw, Mapping) else None
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path}: reminders 必须是映射")
    return _parse_reminders(path, section)


_REMINDER_KEYS = (
    "deadline",
    "days_before",
    "time",
    "timezone",
    "years",
    "grace_days",
    "thank_complete",
)


def _int(value: Any) -> int:
    """Return a whole number written as a YAML integer or a string (not a bool or a float)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(value)
    return int(value)


def _month_day(value: Any) -> tuple[int, int]:
    month, day = (_int(p) for p in str(value).split("-"))
    dt.date(2024, month, day)  # a leap year, so that 02-29 is accepted
    return month, day


def _time_of_day(value: Any) -> dt.time:
    # YAML 1.1 reads an unquoted 10:30 as the base-60 integer 630 (an unquoted 09:00 stays text).
    if isinstance(value, int) and not isinstance(value, bool) and value >= 60:
        value = f"{value // 60}:{value % 60:02d}"
    hour, minute = (_int(p) for p in str(value).split(":"))
    return dt.time(hour, minute)


def _days_before(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list | tuple):
        raise TypeError(value)
    days = {_int(d) for d in value}
    if any(not 0 <= d <= 366 for d in days):
        raise ValueError(value)
    return tuple(sorted(days, reverse=True))


def _years(value: Any) -> tuple[int, ...]:
    if value is None:  # "years:" left empty: the plan's period
        return ()
    if isinstance(value, str) and "-" in value:
        first, last = (_int(p) for p in value.split("-"))
        if first > last:
            raise ValueError(value)
        years = set(range(first, last + 1))
    elif isinstance(value, list | tuple):
        years = {_int(y) for y in value}
    else:
        years = {_int(value)}
    if any(not 2000 <= y <= 2100 for y in years):
        raise ValueError(value)
    return tuple(sorted(years))


def _timezone(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(value)
    # Unknown: ZoneInfoNotFoundError (a KeyError), ValueError, or IsADirectoryError ("Asia").
    ZoneInfo(value)
    return value


def _grace_days(value: Any) -> int:
    days = _int(value)
    if days < 0:
        raise ValueError(value)
    return days


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(value)
    return value


def _parse_reminders(path: Path, raw: Mapping[str, Any]) -> ReminderConfig:
    unknown = [str(k) for k in raw if k not in _REMINDER_KEYS]
    if unknown:
        raise ConfigError(
            f"{path}: reminders 中有未知的设置 {'、'.join(unknown)}"
            f"（可用：{'、'.join(_REMINDER_KEYS)}）"
        )

    def setting(key: str, default: Any, parse: Callable[[Any], _T], hint: str) -> _T:
        value = raw.get(key, default)
        try:
            return parse(value)
        except (TypeError, ValueError, KeyError, OSError):
            raise ConfigError(f"{path}: reminders.{key} 的值 {value!r} 无效，{hint}") from None

    return ReminderConfig(
        deadline=setting("deadline", "12-31", _month_day, '应为 "月-日"，例如 "12-31"'),
        days_before=setting(
            "days_before",
            [30, 14, 7, 3, 1],
            _days_before,
            "应为 0–366 的天数列表，例如 [30, 7, 1]",
        ),
        time_of_day=setting("time", "09:00", _time_of_day, '应为 "时:分"，例如 "09:00"'),
        timezone=setting("timezone", "Asia/Shanghai", _timezone, "应为时区名，例如 Asia/Shanghai"),
        years=setting(
            "years",
            [],
            _years,
            "应为 2000–2100 的年份列表（如 [2025, 2026]）或区间（如 2025-2027）",
        ),
        grace_days=setting("grace_days", 2, _grace_days, "应为不小于 0 的天数"),
        thank_complete=setting("thank_complete", True, _flag, "应为 true 或 false"),
    )


_TELEGRAM_ID = re.compile(r"(?:tg:)?([0-9]{1,20})", re.IGNORECASE)
_WECOM_ID = re.compile(r"wecom:([A-Za-z0-9_.@-]{1,64})", re.IGNORECASE)


def _coordinator(entry: str) -> str:
    """Return a coordinator's id as the core knows it: `tg:123`, `wecom:Id`."""
    if match := _TELEGRAM_ID.fullmatch(entry):
        return f"tg:{match[1]}"
    if match := _WECOM_ID.fullmatch(entry):
        return f"wecom:{match[1].lower()}"  # WeCom's UserIds ignore case; the adapter's are lower
    raise ConfigError(
        f"FENGONG_COORDINATORS 中的「{entry}」无效：请写 Telegram 用户 ID（数字，如 123456789"
        "，也可写 tg:123456789）或企业微信账号（wecom:UserId，1–64 个字母、数字或 _ - . @），"
        "多个之间用英文逗号分隔。"
    )


def _coordinators(text: str) -> frozenset[str]:
    return frozenset(_coordinator(c.strip()) for c in text.split(",") if c.strip())


def _default_doc(text: str) -> str:
    """Return FENGONG_DEFAULT_DOC's folder name; a path or a dot name is refused."""
    name = text.strip()
    if name in (".", "..") or re.search(r"[/\\\x00-\x1f]", name):
        raise ConfigError(
            f"FENGONG_DEFAULT_DOC 的值「{name}」无效：请写数据目录（FENGONG_DATA）下一个文件的"
            "文件夹名，例如 guofa2019-3；不设置则默认用数据目录本身的文件。"
        )
    return name


def _group_webhook(text: str) -> str | None:
    """Return FENGONG_GROUP_WEBHOOK's URL (None when unset); not echoed when malformed."""
    url = text.strip()
    if url and not re.fullmatch(r"https?://[^\s/?#]+/\S*[?&]key=[^&\s]+\S*", url):
        raise ConfigError(
            "FENGONG_GROUP_WEBHOOK 应为群机器人的 Webhook 地址"
            "（https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…）"
        )
    return url or None


_SQLITE_URL = "sqlite:///"
_POSTGRES_URL = re.compile(r"postgres(?:ql)?://", re.IGNORECASE)


def postgres_url(text: str) -> str | None:
    """Return `text` (FENGONG_DB) when it is a PostgreSQL URL, None for a SQLite file; a
    malformed URL is refused without being echoed."""
    url = text.strip()
    if not _POSTGRES_URL.match(url):
        return None
    try:
        parts = urlsplit(url)
        # .port raises ValueError for a port that is no number or out of range.
        host = (parts.hostname or parse_qs(parts.query).get("host")) and parts.port != 0
        valid = bool(host and parts.path.strip("/"))
    except ValueError:
        valid = False
    if not valid:
        raise ConfigError(
            "FENGONG_DB 的 PostgreSQL 地址应为 postgresql://用户名:密码@主机:端口/数据库名"
            "（如 postgresql://fengong:密码@db.example:5432/fengong；"
            "密码中的 @ : / 写作 %40 %3A %2F）。"
        )
    return url


def _db_path(text: str) -> Path:
    """Return FENGONG_DB's file (a path, or sqlite:///path); a path ending in a slash means a
    folder, not a file."""
    if text.lower().startswith(_SQLITE_URL):
        text = text[len(_SQLITE_URL) :]
    if _POSTGRES_URL.match(text.strip()):
        return DEFAULT_DB  # unused: the store is the URL's database
    if text.endswith(("/", os.sep)) or (text and Path(text).is_dir()):
        raise ConfigError(
            f"FENGONG_DB 应指向数据库文件（如 var/fengong.db），而「{text}」是一个文件夹；"
            f"例如写 {text.rstrip('/' + os.sep)}/fengong.db。"
        )
    return Path(text)


def _telegram_base_url(text: str) -> str | None:
    """Return TELEGRAM_API_BASE_URL when it is an http(s) address (the token is appended)."""
    url = text.strip()
    if url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise ConfigError(
            "TELEGRAM_API_BASE_URL 应为 http(s):// 开头的地址，"
            "例如 http://localhost:8081/bot（自建 Bot API 服务器）；不用自建服务器时不要设置。"
        )
    return url or None


def _telegram_token(text: str) -> str | None:
    """Return TELEGRAM_BOT_TOKEN when it has a token's shape (digits:letters); never echoed."""
    token = text.strip()
    if token and not re.fullmatch(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}", token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN 的格式不对：应为 @BotFather 给出的「数字:字母数字」，"
            "如 123456789:AAH…（不要带引号、空格或 bot 前缀）。"
        )
    return token or None


_INSTANCE = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")


def _instance(text: str) -> str:
    """Return FENGONG_INSTANCE (else the host's name): letters, digits and _.:@- only."""
    name = text.strip() or _hostname()
    if not _INSTANCE.fullmatch(name):
        raise ConfigError(
            f"FENGONG_INSTANCE 的值「{name[:64]}」无效：请用 1–64 个字母、数字或 _.:@- 命名本实例"
            "（同一数据库上的每个实例各用一个名字）。"
        )
    return name


def seconds(name: str, text: str, low: float, high: float, why: str = "") -> float:
    """Return the setting `name`'s seconds from `text`: `low` to `high`, else a ConfigError."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN too
        raise ConfigError(
            f"{name} 的值「{text[:32]}」无效：请写 {low:g} 到 {high:g} 之间的秒数{why}"
        )
    return value


def _lease(text: str) -> dt.timedelta:
    """Return FENGONG_LEASE_SECONDS as a duration (default LEASE_TTL): 3 to 3600 seconds."""
    if not text.strip():
        return LEASE_TTL
    why = "（实例停止响应后，其他实例多久接手它的成员）。"
    return dt.timedelta(seconds=seconds("FENGONG_LEASE_SECONDS", text, 3, 3600, why))


def _cache(text: str) -> Path | None:
    """Return FENGONG_CACHE's folder; empty or `off`: none."""
    text = text.strip()
    return None if text.lower() in ("", "off") else Path(text)


def _set_webhook(env: Mapping[str, str]) -> bool:
    """Return TELEGRAM_SET_WEBHOOK (default on); off needs the webhook's URL and secret."""
    text = env.get("TELEGRAM_SET_WEBHOOK", "").strip().lower() or "1"
    if text not in ("1", "0", "on", "off", "true", "false", "yes", "no"):
        raise ConfigError(
            f"TELEGRAM_SET_WEBHOOK 应为 1（本实例设置 webhook）或 0（只接收），而不是 {text!r}"
        )
    on = text in ("1", "on", "true", "yes")
    wanted = [n for n in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET") if not env.get(n)]
    if not on and env.get("TELEGRAM_BOT_TOKEN", "").strip() and wanted:
        raise ConfigError(
            "TELEGRAM_SET_WEBHOOK=0（本实例只接收 webhook 更新，由另一实例设置 webhook）还需要 "
            f"{'、'.join(wanted)}：各实例设置相同的 TELEGRAM_WEBHOOK_URL 和 "
            "TELEGRAM_WEBHOOK_SECRET（见 README“多实例部署”）。"
        )
    return on


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Read the configuration from environment variables (and FENGONG_CONFIG's YAML file)."""
    env = os.environ if env is None else env
    coordinators = _coordinators(env.get("FENGONG_COORDINATORS", ""))
    config_file = env.get("FENGONG_CONFIG")
    try:
        port = int(env.get("TELEGRAM_WEBHOOK_PORT", "8443"))
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        given = env["TELEGRAM_WEBHOOK_PORT"]
        raise ConfigError(f"TELEGRAM_WEBHOOK_PORT 必须是 1–65535 的端口号，而不是 {given!r}")
    return Config(
        telegram_token=_telegram_token(env.get("TELEGRAM_BOT_TOKEN", "")),
        telegram_base_url=_telegram_base_url(env.get("TELEGRAM_API_BASE_URL", "")),
        webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
        webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
        webhook_listen=env.get("TELEGRAM_WEBHOOK_LISTEN") or Config.webhook_listen,
        webhook_port=port,
        set_webhook=_set_webhook(env),
        db_path=_db_path(env.get("FENGONG_DB", str(DEFAULT_DB))),
        db_url=postgres_url(env.get("FENGONG_DB", "")),
        data_dir=Path(env["FENGONG_DATA"]) if env.get("FENGONG_DATA") else DATA_DIR,
        coordinators=coordinators,
        reminders=_reminders(Path(config_file)) if config_file else ReminderConfig(),
        default_doc=_default_doc(env.get("FENGONG_DEFAULT_DOC", "")),
        group_webhook=_group_webhook(env.get("FENGONG_GROUP_WEBHOOK", "")),
        instance=_instance(env.get("FENGONG_INSTANCE", "")),
        named=bool(env.get("FENGONG_INSTANCE", "").strip()),
        lease=_lease(env.get("FENGONG_LEASE_SECONDS", "")),
        cache=_cache(env.get("FENGONG_CACHE", str(DEFAULT_CACHE))),
    )
