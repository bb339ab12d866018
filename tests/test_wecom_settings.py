"""WECOM_* settings: absent means no WeCom; anything missing or malformed stops the start."""

from __future__ import annotations

import pytest

from bot.config import ConfigError
from handlers.wecom.settings import WeComSettings, wecom_settings

GOOD = {
    "WECOM_CORP_ID": "ww1436e0e65a779aee",
    "WECOM_AGENT_ID": "1000002",
    "WECOM_SECRET": "app-secret-value-0123456789",
    "WECOM_TOKEN": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
    "WECOM_AES_KEY": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
}


def test_unset_means_no_wecom() -> None:
    assert wecom_settings({}) is None
    assert wecom_settings({"TELEGRAM_BOT_TOKEN": "1:a", "WECOM_PORT": "9000"}) is None


def test_defaults() -> None:
    settings = wecom_settings(GOOD)
    assert settings == WeComSettings(
        corp_id="ww1436e0e65a779aee",
        agent_id=1000002,
        secret=GOOD["WECOM_SECRET"],
        token=GOOD["WECOM_TOKEN"],
        aes_key=GOOD["WECOM_AES_KEY"],
        api_base_url="https://qyapi.weixin.qq.com",
        listen="0.0.0.0",
        port=8080,
    )


def test_everything_set() -> None:
    settings = wecom_settings(
        {
            **GOOD,
            "WECOM_API_BASE_URL": "https://zwwx.sc.gov.cn:8443",
            "WECOM_LISTEN": "127.0.0.1",
            "WECOM_PORT": "9001",
        }
    )
    assert settings is not None
    assert (settings.api_base_url, settings.listen, settings.port) == (
        "https://zwwx.sc.gov.cn:8443",
        "127.0.0.1",
        9001,
    )
    assert settings.markdown


def test_markdown_can_be_turned_off() -> None:
    settings = wecom_settings({**GOOD, "WECOM_MARKDOWN": "0"})
    assert settings is not None
    assert not settings.markdown


def test_secrets_stay_out_of_repr() -> None:
    text = repr(wecom_settings(GOOD))
    assert "ww1436e0e65a779aee" in text
    for name in ("WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY"):
        assert GOOD[name] not in text


def test_missing_settings_are_named() -> None:
    partial = {k: v for k, v in GOOD.items() if k not in ("WECOM_SECRET", "WECOM_TOKEN")}
    with pytest.raises(ConfigError, match="缺少 WECOM_SECRET、WECOM_TOKEN"):
        wecom_settings(partial)


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("WECOM_AGENT_ID", "abc", "WECOM_AGENT_ID"),
        ("WECOM_AGENT_ID", "-1", "WECOM_AGENT_ID"),
        ("WECOM_AES_KEY", GOOD["WECOM_AES_KEY"][:-1], "WECOM_AES_KEY"),
        ("WECOM_AES_KEY", GOOD["WECOM_AES_KEY"][:-1] + "=", "WECOM_AES_KEY"),
        ("WECOM_TOKEN", "有中文", "WECOM_TOKEN"),
        ("WECOM_TOKEN", "x" * 33, "WECOM_TOKEN"),
        ("WECOM_API_BASE_URL", "qyapi.weixin.qq.com", "WECOM_API_BASE_URL"),
        ("WECOM_PORT", "70000", "WECOM_PORT"),
        ("WECOM_PORT", "http", "WECOM_PORT"),
        ("WECOM_MARKDOWN", "maybe", "WECOM_MARKDOWN"),
        ("WECOM_MARKDOWN", "2", "WECOM_MARKDOWN"),
        ("WECOM_CORP_ID", "1436e0e65a779aee", "WECOM_CORP_ID"),
        ("WECOM_CORP_ID", "ww1", "WECOM_CORP_ID"),
        ("WECOM_CORP_ID", "ww1436e0e65a779aeg", "WECOM_CORP_ID"),
        ("WECOM_SECRET", "s", "WECOM_SECRET"),
        ("WECOM_SECRET", "short-secret", "WECOM_SECRET"),
        ("WECOM_SECRET", "app secret value 0123456789", "WECOM_SECRET"),
        ("WECOM_TOKEN", "to", "WECOM_TOKEN"),
    ],
)
def test_malformed_settings_are_named(name: str, value: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named) as bad:
        wecom_settings({**GOOD, name: value})
    if name in ("WECOM_AES_KEY", "WECOM_TOKEN", "WECOM_SECRET"):
        assert value not in str(bad.value)
