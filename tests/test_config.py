"""Tests for bot.config: the environment, and the reminder schedule from FENGONG_CONFIG's YAML."""

from __future__ import annotations

import datetime as dt
import re
import socket
from pathlib import Path

import pytest

from bot import redact
from bot.cli import main
from bot.config import DEFAULT_DB, Config, ConfigError, ReminderConfig, load_config


def config_file(tmp_path: Path, text: str) -> dict[str, str]:
    """Write a YAML file and return an environment pointing FENGONG_CONFIG at it."""
    path = tmp_path / "fengong.yaml"
    path.write_text(text, encoding="utf-8")
    return {"FENGONG_CONFIG": str(path)}


def reminders(tmp_path: Path, body: str) -> ReminderConfig:
    """The reminder settings read from a `reminders:` section with this (indented) body."""
    return load_config(config_file(tmp_path, "reminders:\n" + body)).reminders


# --- the environment ------------------------------------------------------------------------


def test_defaults() -> None:
    config = load_config({})

    assert config == Config()
    assert config.telegram_token is None
    assert config.webhook_url is None
    assert config.webhook_port == 8443
    assert config.db_path == DEFAULT_DB == Path("var/fengong.db")
    assert config.coordinators == frozenset()
    assert config.reminders == ReminderConfig()
    assert config.reminders.deadline == (12, 31)
    assert config.reminders.days_before == (30, 14, 7, 3, 1)
    assert config.reminders.time_of_day == dt.time(9, 0)
    assert config.reminders.timezone == "Asia/Shanghai"
    assert config.reminders.years == ()
    assert config.reminders.grace_days == 2
    assert config.reminders.thank_complete is True


def test_empty_variables_count_as_unset() -> None:
    config = load_config(
        {"TELEGRAM_BOT_TOKEN": "", "TELEGRAM_WEBHOOK_URL": "", "FENGONG_CONFIG": ""}
    )

    assert config == Config()


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("", frozenset()),
        ("123", frozenset({"tg:123"})),
        ("123,456", frozenset({"tg:123", "tg:456"})),
        (" 123 , 456 ", frozenset({"tg:123", "tg:456"})),
        ("123,,456,", frozenset({"tg:123", "tg:456"})),
        (" , ,, ", frozenset()),
        ("123,123", frozenset({"tg:123"})),
        ("tg:123, TG:456", frozenset({"tg:123", "tg:456"})),
        ("tg:123,123", frozenset({"tg:123"})),
        (
            "wecom:ZhangSan,WECOM:li.si@gov-1_x",
            frozenset({"wecom:zhangsan", "wecom:li.si@gov-1_x"}),  # WeCom ignores case
        ),
        (f"wecom:{'a' * 64},7", frozenset({f"wecom:{'a' * 64}", "tg:7"})),
    ],
)
def test_coordinators(written: str, expected: frozenset[str]) -> None:
    assert load_config({"FENGONG_COORDINATORS": written}).coordinators == expected


@pytest.mark.parametrize(
    "bad",
    [
        "@zhangsan",
        "-1001234",
        "12 34",
        "123abc",
        "tg:",
        "tg:abc",
        "wecom:",
        "wecom:张三",
        f"wecom:{'a' * 65}",
        "wecom:a b",
        "slack:U123",
        "１２３",  # full-width digits
    ],
)
def test_a_malformed_coordinator_is_refused_at_start(bad: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config({"FENGONG_COORDINATORS": f"123, {bad} ,456"})
    assert "FENGONG_COORDINATORS" in str(refused.value)
    assert f"「{bad}」" in str(refused.value)


def test_telegram_settings_and_database_path() -> None:
    config = load_config(
        {
            "TELEGRAM_BOT_TOKEN": "123:abc",
            "TELEGRAM_API_BASE_URL": "http://localhost:8081",
            "TELEGRAM_WEBHOOK_URL": "https://bot.documents.example/hook",
            "TELEGRAM_WEBHOOK_SECRET": "s3cret",
            "TELEGRAM_WEBHOOK_PORT": "9000",
            "FENGONG_DB": "/data/bot.db",
        }
    )

    assert config.telegram_token == "123:abc"
    assert config.telegram_base_url == "http://localhost:8081"
    assert config.webhook_url == "https://bot.documents.example/hook"
    assert config.webhook_secret == "s3cret"
    assert config.webhook_port == 9000
    assert config.db_path == Path("/data/bot.db")
    assert config.set_webhook  # one instance alone sets its own webhook


WEBHOOK = {
    "TELEGRAM_BOT_TOKEN": "123:abc",
    "TELEGRAM_WEBHOOK_URL": "https://bot.documents.example/telegram",
    "TELEGRAM_WEBHOOK_SECRET": "s3cret",
}


def test_an_instance_may_only_receive_the_webhook_another_one_sets() -> None:
    assert not load_config(WEBHOOK | {"TELEGRAM_SET_WEBHOOK": "0"}).set_webhook
    assert load_config(WEBHOOK | {"TELEGRAM_SET_WEBHOOK": "1"}).set_webhook
    # WeCom alone: the setting of a shared env file (deploy/) changes nothing.
    assert not load_config({"TELEGRAM_SET_WEBHOOK": "0"}).set_webhook


@pytest.mark.parametrize("missing", ["TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET"])
def test_only_receiving_needs_the_shared_url_and_secret(missing: str) -> None:
    env = {k: v for k, v in WEBHOOK.items() if k != missing} | {"TELEGRAM_SET_WEBHOOK": "0"}
    with pytest.raises(ConfigError) as refused:
        load_config(env)
    assert missing in str(refused.value)
    assert "多实例部署" in str(refused.value)


def test_a_malformed_set_webhook_switch_is_refused() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_SET_WEBHOOK"):
        load_config(WEBHOOK | {"TELEGRAM_SET_WEBHOOK": "maybe"})


ROBOT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-robot-key"


def test_the_group_robot_webhook_is_read_kept_out_of_repr_and_masked_in_the_log() -> None:
    config = load_config({"FENGONG_GROUP_WEBHOOK": f" {ROBOT_URL} "})

    assert config.group_webhook == ROBOT_URL
    assert "robot-key" not in repr(config)
    assert redact.secrets_in({"FENGONG_GROUP_WEBHOOK": ROBOT_URL}) == {ROBOT_URL}
    assert load_config({"FENGONG_GROUP_WEBHOOK": ""}).group_webhook is None


@pytest.mark.parametrize(
    "bad",
    [
        "693a91f6-robot-key",
        "qyapi.weixin.qq.com/x?key=k",
        "ftp://h/x?key=k",
        # No key=: WeCom would refuse every post, and nobody would know until the summary.
        "https://robot.example/cgi-bin/webhook/send",
        "https://robot.example/cgi-bin/webhook/send?key=",
    ],
)
def test_a_malformed_group_webhook_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(ConfigError, match="FENGONG_GROUP_WEBHOOK") as raised:
        load_config({"FENGONG_GROUP_WEBHOOK": bad})
    assert bad not in str(raised.value)


@pytest.mark.parametrize("port", ["abc", "", "8443x", "0", "-1", "65536", "99999"])
def test_a_bad_port_is_refused(port: str) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_PORT") as raised:
        load_config({"TELEGRAM_WEBHOOK_PORT": port})

    assert repr(port) in str(raised.value)


@pytest.mark.parametrize("port", ["1", "443", "65535"])
def test_the_whole_port_range_is_accepted(port: str) -> None:
    assert load_config({"TELEGRAM_WEBHOOK_PORT": port}).webhook_port == int(port)


# --- the reminder schedule file -------------------------------------------------------------


def test_every_reminder_setting_from_the_file(tmp_path: Path) -> None:
    env = config_file(
        tmp_path,
        """
reminders:
  deadline: "11-30"
  days_before: [1, 10, 3, 10]
  time: "18:45"
  timezone: Europe/Berlin
  years: [2026, 2025]
  grace_days: 5
  thank_complete: false
""",
    )

    assert load_config(env).reminders == ReminderConfig(
        deadline=(11, 30),
        days_before=(10, 3, 1),  # sorted, latest first, without repeats
        time_of_day=dt.time(18, 45),
        timezone="Europe/Berlin",
        years=(2025, 2026),
        grace_days=5,
        thank_complete=False,
    )


def test_unset_reminder_settings_keep_their_defaults(tmp_path: Path) -> None:
    assert reminders(tmp_path, '  deadline: "06-30"\n') == ReminderConfig(deadline=(6, 30))


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "other: 1\n", "reminders: {}\n"])
def test_a_file_without_reminder_settings_gives_the_defaults(tmp_path: Path, text: str) -> None:
    assert load_config(config_file(tmp_path, text)).reminders == ReminderConfig()


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2025-2027", (2025, 2026, 2027)),  # unquoted: YAML reads it as text
        ('"2025 - 2027"', (2025, 2026, 2027)),
        ('"2025-2025"', (2025,)),
        ("[2025, 2027]", (2025, 2027)),
        ("[2027, 2025, 2027]", (2025, 2027)),
        ("2025", (2025,)),
        ('"2025"', (2025,)),
        ("[]", ()),
        ("", ()),  # left empty: the plan's period
    ],
)
def test_years_as_a_list_a_range_or_one_year(
    tmp_path: Path, written: str, expected: tuple[int, ...]
) -> None:
    assert reminders(tmp_path, f"  years: {written}\n").years == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('"09:00"', dt.time(9, 0)),
        ("09:00", dt.time(9, 0)),  # unquoted, with a leading zero: YAML keeps the text
        ("10:30", dt.time(10, 30)),  # unquoted: YAML 1.1 reads the base-60 number 630
        ("9:05", dt.time(9, 5)),
        ('"0:00"', dt.time(0, 0)),
        ('"23:59"', dt.time(23, 59)),
    ],
)
def test_time_of_day(tmp_path: Path, written: str, expected: dt.time) -> None:
    assert reminders(tmp_path, f"  time: {written}\n").time_of_day == expected


def test_deadline_on_29_february_is_accepted(tmp_path: Path) -> None:
    assert reminders(tmp_path, '  deadline: "02-29"\n').deadline == (2, 29)


@pytest.mark.parametrize(
    ("body", "setting"),
    [
        ('  deadline: "13-40"\n', "reminders.deadline"),
        ('  deadline: "02-30"\n', "reminders.deadline"),
        ('  deadline: "12/31"\n', "reminders.deadline"),
        ("  deadline: 2024-12-31\n", "reminders.deadline"),
        ('  time: "25:00"\n', "reminders.time"),
        ("  time: 25:00\n", "reminders.time"),
        ('  time: "09:60"\n', "reminders.time"),
        ("  time: 9\n", "reminders.time"),
        ('  time: "nine"\n', "reminders.time"),
        ("  days_before: 7\n", "reminders.days_before"),
        ("  days_before: [7, -1]\n", "reminders.days_before"),
        ("  days_before: [7, x]\n", "reminders.days_before"),
        ("  days_before: [7.5]\n", "reminders.days_before"),
        ('  years: "2027-2025"\n', "reminders.years"),
        ("  years: next\n", "reminders.years"),
        ("  years: [2025, 1]\n", "reminders.years"),
        ("  grace_days: -1\n", "reminders.grace_days"),
        ("  grace_days: two\n", "reminders.grace_days"),
        ('  thank_complete: "false"\n', "reminders.thank_complete"),
        ("  thank_complete: 0\n", "reminders.thank_complete"),
        ("  timezone: Mars/Olympus\n", "reminders.timezone"),
        ("  timezone: Asia\n", "reminders.timezone"),
        ("  timezone: ../etc/passwd\n", "reminders.timezone"),
        ("  timezone: 8\n", "reminders.timezone"),
    ],
)
def test_an_invalid_reminder_setting_is_refused_by_name(
    tmp_path: Path, body: str, setting: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        reminders(tmp_path, body)

    message = str(raised.value)
    assert str(tmp_path / "fengong.yaml") in message
    assert f"{setting} 的值" in message
    assert "无效" in message
    assert "例如" in message or "应为" in message


def test_an_unknown_reminder_setting_is_refused(tmp_path: Path) -> None:
    # A typo would otherwise quietly leave the default in force.
    with pytest.raises(ConfigError, match="未知的设置 dealine"):
        reminders(tmp_path, '  dealine: "11-30"\n')


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"

    with pytest.raises(ConfigError, match="配置文件不存在") as raised:
        load_config({"FENGONG_CONFIG": str(missing)})

    assert str(missing) in str(raised.value)


@pytest.mark.parametrize(
    "text", ["reminders: [unclosed\n", "reminders:\n  deadline: '12-31\n", "\tbad: tab\n"]
)
def test_malformed_yaml_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match=r"fengong\.yaml: 第\d+行第\d+列 YAML 格式错误：") as bad:
        load_config(config_file(tmp_path, text))
    assert not re.search("[A-Za-z]{4,}", str(bad.value).split("：", 1)[1])  # said in Chinese


@pytest.mark.parametrize("text", ["reminders: [1, 2]\n", "reminders: on\n", "- a list\n"])
def test_reminders_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="reminders 必须是映射"):
        load_config(config_file(tmp_path, text))


def test_config_error_is_a_value_error() -> None:
    # Callers that catch ValueError (e.g. the CLI's argument handling) still see it.
    assert issubclass(ConfigError, ValueError)


def test_the_bot_does_not_start_with_a_malformed_coordinator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")  # never reached
    monkeypatch.setenv("FENGONG_DB", str(tmp_path / "bot.sqlite3"))
    monkeypatch.setenv("FENGONG_COORDINATORS", "123456789,@zhangsan")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：FENGONG_COORDINATORS 中的「@zhangsan」无效")
    assert not (tmp_path / "bot.sqlite3").exists()


@pytest.mark.parametrize(
    "token", ["abc", "987654", "bot123:AAH", "'123:AAH'", "123:AA H", "123：AAH"]
)
def test_a_malformed_telegram_token_is_refused_locally_without_echoing_it(token: str) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN 的格式不对") as raised:
        load_config({"TELEGRAM_BOT_TOKEN": token})
    assert token not in str(raised.value)


def test_a_token_of_the_right_shape_is_kept() -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    assert load_config({"TELEGRAM_BOT_TOKEN": token}).telegram_token == token


def test_fengong_db_naming_a_folder_is_refused(tmp_path: Path) -> None:
    for text in (str(tmp_path), f"{tmp_path}/new/"):
        with pytest.raises(ConfigError, match="FENGONG_DB 应指向数据库文件") as raised:
            load_config({"FENGONG_DB": text})
        assert "fengong.db" in str(raised.value)
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("url", ["notaurl", "ftp://x", "localhost:8081", "http://", "http:// x"])
def test_a_malformed_telegram_api_base_url_is_refused_before_any_request(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    token = "123456789:AAabcdefghijklmnopqrstuvwxyz0123456789"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", url)
    monkeypatch.setenv("FENGONG_DB", str(tmp_path / "bot.sqlite3"))
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：TELEGRAM_API_BASE_URL 应为 http(s):// 开头的地址")
    assert token.split(":")[1] not in err


def test_a_token_is_masked_whole_or_split_and_a_short_secret_only_as_a_whole_word() -> None:
    token = "123456789:AAabcdefghijklmnopqrstuvwxyz0123456789"
    env = {"TELEGRAM_BOT_TOKEN": token, "WECOM_SECRET": "s", "WECOM_TOKEN": "tok"}
    masker = redact.RedactSecrets(redact.secrets_in(env))
    split = "httpx.UnsupportedProtocol: /AAabcdefghijklmnopqrstuvwxyz0123456789/getMe"
    assert masker.redact(split) == "httpx.UnsupportedProtocol: /***/getMe"
    assert masker.redact(f"url notaurl{token}/getMe") == "url notaurl123456789:***/getMe"
    host = "Cannot connect to host qyapi.weixin.qq.com:443 ssl:default tokens"
    assert masker.redact(host) == host
    assert masker.redact("secret=s token tok.") == "secret=*** token ***."


def test_the_instance_is_named_by_its_setting_or_else_by_its_host() -> None:
    assert load_config({"FENGONG_INSTANCE": "bot-2"}).instance == "bot-2"
    assert load_config({}).instance == socket.gethostname()
    # Named: several instances share the database (the WeCom intake opens before its 200).
    assert load_config({"FENGONG_INSTANCE": "bot-2"}).named
    assert not load_config({}).named


def test_an_instance_name_with_spaces_or_slashes_stops_the_start() -> None:
    with pytest.raises(ConfigError, match="FENGONG_INSTANCE"):
        load_config({"FENGONG_INSTANCE": "bot 2/../x"})


def test_the_members_lease_is_its_setting_or_else_30_seconds() -> None:
    assert load_config({}).lease == dt.timedelta(seconds=30)
    assert load_config({"FENGONG_LEASE_SECONDS": " "}).lease == dt.timedelta(seconds=30)
    assert load_config({"FENGONG_LEASE_SECONDS": "10"}).lease == dt.timedelta(seconds=10)
    for bad in ("2", "0", "-5", "3601", "nan", "10s"):
        with pytest.raises(ConfigError) as refused:
            load_config({"FENGONG_LEASE_SECONDS": bad})
        assert str(refused.value).startswith(f"FENGONG_LEASE_SECONDS 的值「{bad}」无效"), bad


def test_ask_keeps_what_it_derives_in_var_cache_unless_told_otherwise() -> None:
    assert load_config({}).cache == Path("var/cache")
    assert load_config({"FENGONG_CACHE": "/tmp/fengong"}).cache == Path("/tmp/fengong")
    for off in ("", " ", "off", "OFF"):
        assert load_config({"FENGONG_CACHE": off}).cache is None, off


PG_URL = "postgresql://fengong:Pa%40ss-w0rd@db.example:5432/fengong"


@pytest.mark.parametrize("url", [PG_URL, PG_URL.replace("postgresql", "postgres", 1)])
def test_a_postgresql_url_selects_postgresql_and_its_password_stays_secret(url: str) -> None:
    config = load_config({"FENGONG_DB": f" {url} "})

    assert config.db_url == url
    assert "Pa%40ss" not in repr(config)
    masker = redact.RedactSecrets(redact.secrets_in({"FENGONG_DB": url}))
    line = f"connecting to {url} as fengong with Pa@ss-w0rd; then Pa%40ss-w0rd"
    assert masker.redact(line) == (
        f"connecting to {url.split(':Pa')[0]}:***@db.example:5432/fengong as fengong with ***; "
        "then ***"
    )


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("sqlite:///var/other.db", Path("var/other.db")),
        ("sqlite:////data/bot.db", Path("/data/bot.db")),
    ],
)
def test_a_path_or_a_sqlite_url_keeps_sqlite(text: str, path: Path) -> None:
    config = load_config({"FENGONG_DB": text})

    assert config.db_path == path
    assert config.db_url is None


@pytest.mark.parametrize(
    "bad",
    [
        "postgresql://fengong:Pa55-w0rd@db.example:5432/",
        "postgresql://fengong:Pa55-w0rd@:5432/fengong",
        "postgresql://fengong:Pa55-w0rd@db.example:port/fengong",
    ],
)
def test_a_malformed_postgresql_url_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(ConfigError, match="postgresql://用户名:密码@主机:端口/数据库名") as caught:
        load_config({"FENGONG_DB": bad})
    assert "Pa55-w0rd" not in str(caught.value)


def test_a_url_password_anywhere_in_the_log_is_masked() -> None:
    text = "failed: postgresql://bot:hunter2-x@10.0.0.5/fengong (timeout)"
    assert redact.redact(text) == "failed: postgresql://bot:***@10.0.0.5/fengong (timeout)"
