"""The fake WeCom callback sender is checked against the official vectors, not against our code."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.fakes.wecom_callback import (
    WeComCallbackClient,
    envelope_xml,
    official_sample,
    wecom_encrypt,
    wecom_signature,
)

SAMPLE = official_sample()
MSG_ENCRYPT = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAg"
    "GzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9"
    "U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qAR"
    "R4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6a"
    "SDPOYuPDGOCI8jmnKiypE+"
)
MSG_PLAIN = (
    "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
    "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
    "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>"
)
ECHOSTR = (
    "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
)


def _random_prefix(encrypt: str) -> bytes:
    """The first CBC block is the random prefix: decrypt it with IV = key[:16]."""
    key = base64.b64decode(SAMPLE["encoding_aes_key"] + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    return decryptor.update(base64.b64decode(encrypt)[:16]) + decryptor.finalize()


def test_fake_encrypts_the_official_message_exactly() -> None:
    prefix = _random_prefix(MSG_ENCRYPT)
    encrypted = wecom_encrypt(
        SAMPLE["encoding_aes_key"], SAMPLE["corp_id"], MSG_PLAIN.encode(), prefix
    )
    assert encrypted == MSG_ENCRYPT
    assert wecom_signature(SAMPLE["token"], "1476422779", "1597212914", encrypted) == (
        "0c3914025cb4b4d68103f6bfc8db550f79dcf48e"
    )


def test_fake_encrypts_the_official_echostr_exactly() -> None:
    prefix = _random_prefix(ECHOSTR)
    encrypted = wecom_encrypt(
        SAMPLE["encoding_aes_key"], SAMPLE["corp_id"], b"1288432023552776189", prefix
    )
    assert encrypted == ECHOSTR
    assert wecom_signature(SAMPLE["token"], "1476416373", "47744683", encrypted) == (
        "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb"
    )


def test_fake_client_signs_what_it_encrypts() -> None:
    wecom = WeComCallbackClient("http://127.0.0.1:1/wecom", **SAMPLE, clock=lambda: 1476422779.5)
    encrypt = wecom.encrypt(b"<xml/>")
    query = wecom.signed_query(encrypt)
    assert query["timestamp"] == "1476422779"
    assert query["msg_signature"] == wecom_signature(
        SAMPLE["token"], query["timestamp"], query["nonce"], encrypt
    )
    assert wecom.signed_query(encrypt)["nonce"] != query["nonce"]


def test_envelope_layout_is_the_official_one() -> None:
    assert envelope_xml("ww1436e0e65a779aee", "abc", 1000002) == (
        b"<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n"
        b"<Encrypt><![CDATA[abc]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
    )
