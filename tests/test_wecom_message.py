"""Parsing WeCom callback XML: the kinds the bot acts on, and what it refuses."""

from __future__ import annotations

import pytest

from handlers.wecom.message import (
    MAX_BODY_BYTES,
    BadXml,
    CardClick,
    EnterAgent,
    Envelope,
    Ignored,
    MenuClick,
    TextMessage,
    parse_envelope,
    parse_message,
    signed_text,
)

OFFICIAL_TEXT = (
    "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
    "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
    "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>"
)


def _event(event: str, extra: str = "", user: str = "ZhangSan", when: int = 1700000000) -> bytes:
    return (
        "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{when}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>"
        f"{extra}<AgentID>1000002</AgentID></xml>"
    ).encode()


def _card(key: str = "approve:7", task: str = "bind-7-ab12", **kw: object) -> bytes:
    extra = (
        f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{task}]]></TaskId>"
        "<CardType><![CDATA[button_interaction]]></CardType>"
        "<ResponseCode><![CDATA[rc-123]]></ResponseCode>"
    )
    return _event("template_card_event", extra, **kw)  # type: ignore[arg-type]


def test_official_text_message_without_cdata() -> None:
    msg = parse_message(OFFICIAL_TEXT.encode())
    assert msg == TextMessage(
        user="chenjiashun",
        create_time=1476422779,
        agent_id=1000002,
        content="你好",
        msg_id="1456453720",
    )
    assert msg.dedupe_key == "msg:1456453720"


def test_text_with_cdata_keeps_content_verbatim() -> None:
    xml = (
        "<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[LiSi]]>"
        "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[  /note 5.1 <b>新建</b> & 12个\n第二行 ]]></Content>"
        "<MsgId>7459035031717794886</MsgId><AgentID>1000002</AgentID></xml>"
    )
    msg = parse_message(xml.encode())
    assert isinstance(msg, TextMessage)
    assert msg.content == "  /note 5.1 <b>新建</b> & 12个\n第二行 "
    assert msg.msg_id == "7459035031717794886"


def test_a_doctype_typed_in_a_message_is_text_not_a_dtd() -> None:
    typed = '<!DOCTYPE xml [<!ENTITY e "x">]> &e;'
    xml = (
        "<xml><FromUserName>LiSi</FromUserName><CreateTime>1700000000</CreateTime>"
        f"<MsgType>text</MsgType><Content><![CDATA[{typed}]]></Content>"
        "<MsgId>1</MsgId></xml>"
    )
    msg = parse_message(xml.encode())
    assert isinstance(msg, TextMessage)
    assert msg.content == typed


def test_card_click() -> None:
    msg = parse_message(_card())
    assert msg == CardClick(
        user="zhangsan",
        create_time=1700000000,
        agent_id=1000002,
        event="template_card_event",
        event_key="approve:7",
        task_id="bind-7-ab12",
        card_type="button_interaction",
        response_code="rc-123",
    )


def test_card_click_with_selected_items() -> None:
    extra = (
        "<EventKey>submit</EventKey><TaskId>t1</TaskId><CardType>button_interaction</CardType>"
        "<ResponseCode>rc</ResponseCode><SelectedItems>"
        "<SelectedItem><QuestionKey>unit</QuestionKey><OptionIds><OptionId>a</OptionId>"
        "<OptionId>b</OptionId></OptionIds></SelectedItem>"
        "<SelectedItem><QuestionKey>year</QuestionKey><OptionIds><OptionId>2024</OptionId>"
        "</OptionIds></SelectedItem></SelectedItems>"
    )
    msg = parse_message(_event("template_card_event", extra))
    assert isinstance(msg, CardClick)
    assert msg.selected == (("unit", ("a", "b")), ("year", ("2024",)))


def test_card_dedupe_key_separates_users_keys_and_seconds() -> None:
    keys = {
        parse_message(_card()).dedupe_key,
        parse_message(_card(user="LiSi")).dedupe_key,
        parse_message(_card(key="reject:7")).dedupe_key,
        parse_message(_card(when=1700000001)).dedupe_key,
        parse_message(_card(task="bind-8-cd34")).dedupe_key,
    }
    assert len(keys) == 5
    assert parse_message(_card()).dedupe_key == parse_message(_card()).dedupe_key


def test_menu_click_in_either_case() -> None:
    for event in ("click", "CLICK"):
        msg = parse_message(_event(event, "<EventKey><![CDATA[menu:unit]]></EventKey>"))
        assert msg == MenuClick("zhangsan", 1700000000, 1000002, "menu:unit")
    assert msg.dedupe_key == "event:zhangsan:click:menu:unit:1700000000"


def test_enter_agent() -> None:
    msg = parse_message(_event("enter_agent", "<EventKey><![CDATA[]]></EventKey>"))
    assert msg == EnterAgent("zhangsan", 1700000000, 1000002)
    assert msg.dedupe_key == "event:zhangsan:enter_agent:1700000000"


def test_other_events_and_types_are_ignored() -> None:
    sub = parse_message(_event("subscribe"))
    assert sub == Ignored("zhangsan", 1700000000, 1000002, "event:subscribe", None)
    assert sub.dedupe_key == "event:zhangsan:event:subscribe:1700000000"
    image = parse_message(
        b"<xml><FromUserName>a</FromUserName><CreateTime>1</CreateTime>"
        b"<MsgType>image</MsgType><PicUrl>http://x</PicUrl><MsgId>99</MsgId></xml>"
    )
    assert image == Ignored("a", 1, None, "image", "99")
    assert image.dedupe_key == "msg:99"


def test_envelope() -> None:
    body = (
        b"<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n"
        b"<Encrypt><![CDATA[Kl7k+/=]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
    )
    assert parse_envelope(body) == Envelope("ww1436e0e65a779aee", "1000002", "Kl7k+/=")


def test_envelope_without_agent() -> None:
    body = b"<xml><ToUserName>ww1</ToUserName><Encrypt>abc</Encrypt></xml>"
    assert parse_envelope(body) == Envelope("ww1", None, "abc")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml",
        b"<xml><ToUserName>ww1</ToUserName>",
        b"<xml><ToUserName>ww1</ToUserName></xml>",
        b"<xml><Encrypt>abc</Encrypt></xml>",
        b"<other><ToUserName>ww1</ToUserName><Encrypt>abc</Encrypt></other>",
    ],
    ids=["empty", "text", "unclosed", "no-encrypt", "no-to", "root"],
)
def test_bad_envelopes(body: bytes) -> None:
    with pytest.raises(BadXml):
        parse_envelope(body)


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><FromUserName>a</FromUserName><MsgType>text</MsgType><MsgId>1</MsgId></xml>",
        b"<xml><FromUserName>a</FromUserName><CreateTime>x</CreateTime><MsgType>text</MsgType>"
        b"<MsgId>1</MsgId></xml>",
        b"<xml><FromUserName>a</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
        b"</xml>",
        b"<xml><FromUserName>a</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
        b"</xml>",
        b"<xml><CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>1</MsgId></xml>",
        b"<xml><FromUserName>a</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
        b"<Event>template_card_event</Event><EventKey>k</EventKey></xml>",
        b"<xml><FromUserName>a</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
        b"<MsgId>1</MsgId><AgentID>abc</AgentID></xml>",
    ],
    ids=["no-time", "bad-time", "text-no-msgid", "no-event", "no-user", "card-no-task", "agent"],
)
def test_messages_missing_fields(body: bytes) -> None:
    with pytest.raises(BadXml):
        parse_message(body)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><ToUserName>ww1</ToUserName><Encrypt>&lol4;</Encrypt></xml>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>ww1</ToUserName><Encrypt>&secret;</Encrypt></xml>"""

BARE_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE xml SYSTEM "http://127.0.0.1:1/x.dtd">
<xml><ToUserName>ww1</ToUserName><Encrypt>abc</Encrypt></xml>"""

INTERNAL_ENTITY = b"""<!DOCTYPE xml [<!ENTITY e "abc">]>
<xml><ToUserName>ww1</ToUserName><Encrypt>&e;</Encrypt></xml>"""


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, BARE_DTD, INTERNAL_ENTITY],
    ids=["bomb", "external", "dtd", "entity"],
)
@pytest.mark.parametrize("parse", [parse_envelope, parse_message])
def test_dtds_and_entities_are_refused(body: bytes, parse: object) -> None:
    with pytest.raises(BadXml):
        parse(body)  # type: ignore[operator]


def test_size_limit() -> None:
    filler = "A" * (MAX_BODY_BYTES - 80)
    fits = f"<xml><ToUserName>ww1</ToUserName><Encrypt>{filler}</Encrypt></xml>".encode()
    assert len(fits) <= MAX_BODY_BYTES
    assert parse_envelope(fits).encrypt == filler
    too_big = fits.replace(b"</Encrypt>", b"A" * 100 + b"</Encrypt>")
    assert len(too_big) > MAX_BODY_BYTES
    with pytest.raises(BadXml):
        parse_envelope(too_big)


def test_errors_do_not_echo_the_body() -> None:
    with pytest.raises(BadXml) as bad:
        parse_message(b"<xml><Content>secret note text</Content><unclosed></xml>")
    assert "secret note text" not in str(bad.value)


def test_card_menu_click_is_a_card_click() -> None:
    extra = (
        "<EventKey><![CDATA[menu:remind]]></EventKey><TaskId><![CDATA[t9]]></TaskId>"
        "<CardType><![CDATA[text_notice]]></CardType><ResponseCode>rc9</ResponseCode>"
    )
    msg = parse_message(_event("template_card_menu_event", extra))
    assert isinstance(msg, CardClick)
    assert (msg.event, msg.event_key, msg.task_id, msg.card_type) == (
        "template_card_menu_event",
        "menu:remind",
        "t9",
        "text_notice",
    )


def test_two_menu_buttons_in_one_second_are_two_clicks() -> None:
    def click(key: str) -> str:
        extra = f"<EventKey><![CDATA[{key}]]></EventKey>"
        return parse_message(_event("click", extra)).dedupe_key

    assert click("menu:whoami") != click("menu:help")
    assert click("menu:help") == click("menu:help")  # WeCom's retry of one click


def test_a_userid_is_one_member_whatever_its_case() -> None:
    assert parse_message(_event("enter_agent", user="ZhangSan")).user == "zhangsan"
    assert (
        parse_message(_event("enter_agent", user="ZHANGSAN")).dedupe_key
        == parse_message(_event("enter_agent", user="zhangsan")).dedupe_key
    )


@pytest.mark.parametrize("user", ["zhang|li", "zhang san", "张三", "a" * 65, "x\u202eu"])
def test_a_userid_wecom_cannot_issue_is_refused(user: str) -> None:
    with pytest.raises(BadXml, match="FromUserName"):
        parse_message(_event("enter_agent", user=user))


@pytest.mark.parametrize("encoding", ["GBK", "x-no-such-encoding", "UTF-32"])
@pytest.mark.parametrize("parse", [parse_envelope, parse_message])
def test_a_declared_encoding_expat_cannot_read_is_bad_xml(encoding: str, parse: object) -> None:
    body = f'<?xml version="1.0" encoding="{encoding}"?><xml><ToUserName>a</ToUserName></xml>'
    with pytest.raises(BadXml):
        parse(body.encode())  # type: ignore[operator]


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b"<xml><Encrypt><![CDATA[Kl7k+/=]]></Encrypt></xml>", "Kl7k+/="),
        (b"<xml><Encrypt>\n abc= \n</Encrypt></xml>", "abc="),
        (b"<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>", "a"),  # the first
    ],
)
def test_the_signed_text_is_the_first_encrypt_elements(body: bytes, found: str) -> None:
    assert signed_text(body) == found


@pytest.mark.parametrize(
    "body",
    [b"", b"<xml><Encrypt></Encrypt></xml>", b"<xml><Encrypt>&lol;</Encrypt></xml>", b"{}"],
    ids=["empty", "blank", "entity", "json"],
)
def test_a_body_without_a_signed_text_is_bad_xml(body: bytes) -> None:
    with pytest.raises(BadXml):
        signed_text(body)


def test_the_signed_text_of_an_oversized_body_is_not_looked_for() -> None:
    with pytest.raises(BadXml, match="超过"):
        signed_text(b"<xml><Encrypt>a</Encrypt>" + b" " * MAX_BODY_BYTES + b"</xml>")
