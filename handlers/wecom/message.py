"""WeCom callback XML: the encrypted envelope and the decrypted messages, as small values.

Parsed with defusedxml: a DTD, an entity or an external reference is refused, not expanded.
Both CDATA and plain text nodes are accepted (the official test vector has no CDATA).
`signed_text` only locates the Encrypt text the signature is checked against, before any XML
parser sees a body; `parse_envelope` then reads the envelope and must find that same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_BODY_BYTES = 64 * 1024
# WeCom's UserId: 1–64 letters, digits and "_-@." (never a "|", which separates `touser`).
_USER_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
# The envelope's Encrypt element as WeCom writes it (base64, in CDATA or not): linear time,
# no backtracking to speak of.
_ENCRYPT = re.compile(
    rb"<Encrypt>\s*(?:<!\[CDATA\[\s*([A-Za-z0-9+/=]+)\s*\]\]>|([A-Za-z0-9+/=]+))\s*</Encrypt>"
)


class BadXml(ValueError):
    """The body is oversized, not well-formed, dangerous (DTD, entities) or lacks a field."""


@dataclass(frozen=True)
class Envelope:
    """The POSTed outer XML: addressee CorpID, agent and the ciphertext."""

    to_user: str
    agent_id: str | None
    encrypt: str


@dataclass(frozen=True)
class TextMessage:
    """A member typed text to the app."""

    user: str
    create_time: int
    agent_id: int | None
    content: str
    msg_id: str

    @property
    def dedupe_key(self) -> str:
        """The same for WeCom's retries of this message, different for any other."""
        return f"msg:{self.msg_id}"


@dataclass(frozen=True)
class CardClick:
    """A button of a template card was pressed (template_card_event / _menu_event)."""

    user: str
    create_time: int
    agent_id: int | None
    event: str
    event_key: str
    task_id: str
    card_type: str
    response_code: str
    # (question_key, chosen option ids) for each dropdown or checkbox on the card
    selected: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def dedupe_key(self) -> str:
        """Every recipient's click carries the same TaskId, so the user and key are part of it."""
        return f"card:{self.user}:{self.task_id}:{self.event_key}:{self.create_time}"


@dataclass(frozen=True)
class MenuClick:
    """A `click` button of the application menu was pressed."""

    user: str
    create_time: int
    agent_id: int | None
    event_key: str

    @property
    def dedupe_key(self) -> str:
        """Events carry no MsgId: user, event, button and second (two buttons, two clicks)."""
        return _event_key(self.user, f"click:{self.event_key}", self.create_time)


@dataclass(frozen=True)
class EnterAgent:
    """A member opened the app."""

    user: str
    create_time: int
    agent_id: int | None

    @property
    def dedupe_key(self) -> str:
        """Events carry no MsgId: user, event and second."""
        return _event_key(self.user, "enter_agent", self.create_time)


@dataclass(frozen=True)
class Ignored:
    """Anything the bot does not act on (images, voice, location, subscribe …)."""

    user: str
    create_time: int
    agent_id: int | None
    kind: str  # MsgType, or "event:<Event>"
    msg_id: str | None

    @property
    def dedupe_key(self) -> str:
        """MsgId when there is one, otherwise user, kind and second."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return _event_key(self.user, self.kind, self.create_time)


Message = TextMessage | CardClick | MenuClick | EnterAgent | Ignored


def parse_envelope(body: bytes) -> Envelope:
    """Read the outer XML of a POSTed callback (at most 64 KB)."""
    root = _parse(body)
    return Envelope(
        to_user=_required(root, "ToUserName"),
        agent_id=_text(root, "AgentID"),
        encrypt=_required(root, "Encrypt"),
    )


def signed_text(body: bytes) -> str:
    """The first Encrypt element's base64 text of a POSTed body (not parsed as XML), or BadXml.

    What the signature covers: a body is looked at as XML (parse_envelope) only once it is
    known to come from WeCom, and its envelope's Encrypt must then be this text.
    """
    if len(body) > MAX_BODY_BYTES:
        raise BadXml(f"XML 超过 {MAX_BODY_BYTES} 字节")
    found = _ENCRYPT.search(body)
    if found is None:
        raise BadXml("XML 缺少 Encrypt")
    return (found[1] or found[2]).decode("ascii")


def parse_message(plaintext: bytes) -> Message:
    """Read a decrypted callback into one of the message kinds."""
    root = _parse(plaintext)
    user = _user(_required(root, "FromUserName"))
    create_time = _int(_required(root, "CreateTime"), "CreateTime")
    agent_text = _text(root, "AgentID")
    agent_id = _int(agent_text, "AgentID") if agent_text else None
    msg_type = _required(root, "MsgType").lower()
    if msg_type == "text":
        return TextMessage(
            user, create_time, agent_id, _text(root, "Content") or "", _required(root, "MsgId")
        )
    if msg_type != "event":
        return Ignored(user, create_time, agent_id, msg_type, _text(root, "MsgId"))
    # WeCom writes `click` in lower case where WeChat writes CLICK; read either.
    event = _required(root, "Event").lower()
    if event in ("template_card_event", "template_card_menu_event"):
        return CardClick(
            user,
            create_time,
            agent_id,
            event,
            _text(root, "EventKey") or "",
            _required(root, "TaskId"),
            _text(root, "CardType") or "",
            _text(root, "ResponseCode") or "",
            _selected(root),
        )
    if event == "click":
        return MenuClick(user, create_time, agent_id, _text(root, "EventKey") or "")
    if event == "enter_agent":
        return EnterAgent(user, create_time, agent_id)
    return Ignored(user, create_time, agent_id, f"event:{event}", None)


def _parse(data: bytes) -> Element:
    if len(data) > MAX_BODY_BYTES:
        raise BadXml(f"XML 超过 {MAX_BODY_BYTES} 字节")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise BadXml(f"XML 含有被禁止的结构：{type(e).__name__}") from None
    except ParseError as e:
        raise BadXml(f"XML 格式错误：{e}") from None
    except (LookupError, ValueError) as e:  # an encoding expat does not know (GBK …)
        raise BadXml(f"XML 的编码无法读取：{type(e).__name__}") from None
    if root.tag != "xml":
        raise BadXml("XML 根元素不是 <xml>")
    return root


def _text(root: Element, tag: str) -> str | None:
    node = root.find(tag)
    if node is None:
        return None
    return (node.text or "").strip() if tag != "Content" else node.text or ""


def _required(root: Element, tag: str) -> str:
    value = _text(root, tag)
    if not value:
        raise BadXml(f"XML 缺少 {tag}")
    return value


def _user(user_id: str) -> str:
    """A UserId as WeCom allows it (1–64 letters, digits, _-@.), lower-cased.

    WeCom compares UserIds without regard to case (and answers `invaliduser` lower-cased),
    so one member is one id here, however a callback spells it.
    """
    if not _USER_ID.fullmatch(user_id):
        raise BadXml("FromUserName 不是企业微信的 UserId")
    return user_id.lower()


def _int(value: str, tag: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadXml(f"{tag} 不是整数") from None


def _selected(root: Element) -> tuple[tuple[str, tuple[str, ...]], ...]:
    items = []
    for item in root.iterfind("SelectedItems/SelectedItem"):
        key = (item.findtext("QuestionKey") or "").strip()
        ids = tuple((o.text or "").strip() for o in item.iterfind("OptionIds/OptionId"))
        items.append((key, ids))
    return tuple(items)


def _event_key(user: str, event: str, create_time: int) -> str:
    return f"event:{user}:{event}:{create_time}"
