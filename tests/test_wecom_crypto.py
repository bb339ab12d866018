"""WeCom callback crypto against the official test vectors, and what it must refuse."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from handlers.wecom.crypto import (
    BadCiphertext,
    BadKey,
    BadPadding,
    BadSignature,
    CryptoError,
    MsgCrypt,
    WrongReceiver,
    aes_key,
    signature,
)

# Official sample (sbzhu/weworkapi_python callback/Sample.py @27220fb).
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"

VERIFY_SIGNATURE = "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb"
VERIFY_TIMESTAMP = "1476416373"
VERIFY_NONCE = "47744683"
ECHOSTR = (
    "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
)

MSG_SIGNATURE = "0c3914025cb4b4d68103f6bfc8db550f79dcf48e"
MSG_TIMESTAMP = "1476422779"
MSG_NONCE = "1597212914"
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


@pytest.fixture
def crypt() -> MsgCrypt:
    return MsgCrypt(TOKEN, AES_KEY, CORP_ID)


def _raw_encrypt(key: str, plain: bytes) -> str:
    """AES-CBC with WeCom's key and IV on an already padded plaintext (to forge bad ones)."""
    raw = aes_key(key)
    encryptor = Cipher(algorithms.AES(raw), modes.CBC(raw[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def test_official_url_verification_vector(crypt: MsgCrypt) -> None:
    answer = crypt.verify_url(VERIFY_SIGNATURE, VERIFY_TIMESTAMP, VERIFY_NONCE, ECHOSTR)
    assert answer == "1288432023552776189"


def test_official_message_vector(crypt: MsgCrypt) -> None:
    plain = crypt.unseal(MSG_SIGNATURE, MSG_TIMESTAMP, MSG_NONCE, MSG_ENCRYPT)
    assert plain.decode() == MSG_PLAIN


def test_official_signatures() -> None:
    assert signature(TOKEN, VERIFY_TIMESTAMP, VERIFY_NONCE, ECHOSTR) == VERIFY_SIGNATURE
    assert signature(TOKEN, MSG_TIMESTAMP, MSG_NONCE, MSG_ENCRYPT) == MSG_SIGNATURE


def test_wechatpy_verification_vector() -> None:
    crypt = MsgCrypt("123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a")
    echostr = (
        "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
    )
    answer = crypt.verify_url(
        "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96", "1411443780", "437374425", echostr
    )
    assert answer == "5927782489442352469"


def test_message_padding_is_to_32_bytes(crypt: MsgCrypt) -> None:
    # The official message has 22 bytes of padding: AES's own 16-byte PKCS#7 would reject it.
    raw = aes_key(AES_KEY)
    decryptor = Cipher(algorithms.AES(raw), modes.CBC(raw[:16])).decryptor()
    padded = decryptor.update(base64.b64decode(MSG_ENCRYPT)) + decryptor.finalize()
    assert padded[-1] == 22
    assert crypt.decrypt(MSG_ENCRYPT).decode() == MSG_PLAIN


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s, t, n, e: ("0" * 40, t, n, e),
        lambda s, t, n, e: (s, str(int(t) + 1), n, e),
        lambda s, t, n, e: (s, t, n + "1", e),
        lambda s, t, n, e: (s, t, n, e[:-4] + "AAA="),
        lambda s, t, n, e: (s[:-1], t, n, e),
        lambda s, t, n, e: ("", t, n, e),
    ],
    ids=["signature", "timestamp", "nonce", "ciphertext", "short-signature", "empty-signature"],
)
def test_tampering_breaks_the_signature(crypt: MsgCrypt, tamper: object) -> None:
    args = tamper(MSG_SIGNATURE, MSG_TIMESTAMP, MSG_NONCE, MSG_ENCRYPT)  # type: ignore[operator]
    with pytest.raises(BadSignature):
        crypt.unseal(*args)


def test_signature_is_case_insensitive_hex(crypt: MsgCrypt) -> None:
    plain = crypt.unseal(MSG_SIGNATURE.upper(), MSG_TIMESTAMP, MSG_NONCE, MSG_ENCRYPT)
    assert plain.decode() == MSG_PLAIN


def test_wrong_token_is_a_bad_signature() -> None:
    crypt = MsgCrypt("another-token", AES_KEY, CORP_ID)
    with pytest.raises(BadSignature):
        crypt.verify_url(VERIFY_SIGNATURE, VERIFY_TIMESTAMP, VERIFY_NONCE, ECHOSTR)


def test_other_corp_is_a_wrong_receiver() -> None:
    crypt = MsgCrypt(TOKEN, AES_KEY, "ww0000000000000000")
    with pytest.raises(WrongReceiver):
        crypt.unseal(MSG_SIGNATURE, MSG_TIMESTAMP, MSG_NONCE, MSG_ENCRYPT)


def test_receiver_prefix_is_not_enough() -> None:
    crypt = MsgCrypt(TOKEN, AES_KEY, CORP_ID + "x")
    with pytest.raises(WrongReceiver):
        crypt.decrypt(MSG_ENCRYPT)


def test_wrong_key_fails_cleanly() -> None:
    crypt = MsgCrypt(TOKEN, "A" * 43, CORP_ID)
    with pytest.raises(CryptoError):
        crypt.decrypt(MSG_ENCRYPT)


@pytest.mark.parametrize(
    "tail",
    [
        bytes([0]) * 32,  # pad value 0
        bytes([33]) * 32,  # above the block size
        bytes([5]) * 28 + bytes([1, 2, 3, 4]),  # last byte 4 but not four 4s
        bytes(31) + bytes([32]),  # claims 32 bytes of padding, only one is 32
        bytes(13) + bytes([20]) * 19,  # pad value 20, only 19 of them
    ],
    ids=["zero", "33", "mixed", "32-of-zeros", "one-short"],
)
def test_bad_padding_is_refused(crypt: MsgCrypt, tail: bytes) -> None:
    body = b"\x00" * 16 + (12).to_bytes(4, "big") + b"<xml></xml>!" + CORP_ID.encode()
    body = body[: len(body) - len(body) % 32]
    with pytest.raises(BadPadding):
        crypt.decrypt(_raw_encrypt(AES_KEY, body + tail))


def test_length_not_a_multiple_of_32_is_refused(crypt: MsgCrypt) -> None:
    with pytest.raises(BadPadding):
        crypt.decrypt(_raw_encrypt(AES_KEY, bytes([16]) * 48))


@pytest.mark.parametrize("encrypt", ["", "not base64!", "QUJD", "Kl7kjoSf6DMD"])
def test_garbage_is_bad_ciphertext(crypt: MsgCrypt, encrypt: str) -> None:
    with pytest.raises(BadCiphertext):
        crypt.decrypt(encrypt)


def test_length_field_beyond_the_plaintext_is_refused(crypt: MsgCrypt) -> None:
    plain = b"\x00" * 16 + (10_000).to_bytes(4, "big") + b"hi" + CORP_ID.encode()
    pad = 32 - len(plain) % 32
    with pytest.raises(BadCiphertext):
        crypt.decrypt(_raw_encrypt(AES_KEY, plain + bytes([pad]) * pad))


@pytest.mark.parametrize("size", [0, 1, 11, 12, 13, 44, 1000, 65_000])
def test_round_trip(size: int) -> None:
    crypt = MsgCrypt(TOKEN, AES_KEY, CORP_ID)
    message = ("汉" * size).encode()[:size]
    encrypted, signed = crypt.seal(message, "1700000000", "42")
    assert crypt.unseal(signed, "1700000000", "42", encrypted) == message
    assert len(base64.b64decode(encrypted)) % 32 == 0


def test_encrypt_matches_the_official_vector_with_its_random_prefix() -> None:
    # Recover the official random prefix, then encrypt again: the very same ciphertext.
    raw = aes_key(AES_KEY)
    decryptor = Cipher(algorithms.AES(raw), modes.CBC(raw[:16])).decryptor()
    prefix = (decryptor.update(base64.b64decode(MSG_ENCRYPT)) + decryptor.finalize())[:16]
    crypt = MsgCrypt(TOKEN, AES_KEY, CORP_ID, random_bytes=lambda n: prefix[:n])
    assert crypt.encrypt(MSG_PLAIN.encode()) == MSG_ENCRYPT
    assert crypt.seal(MSG_PLAIN.encode(), MSG_TIMESTAMP, MSG_NONCE)[1] == MSG_SIGNATURE


def test_flipped_ciphertext_bit_is_rejected_even_if_resigned(crypt: MsgCrypt) -> None:
    # An attacker without the token cannot re-sign; with it, a flipped byte still fails a check.
    data = bytearray(base64.b64decode(MSG_ENCRYPT))
    data[-1] ^= 0x01
    forged = base64.b64encode(bytes(data)).decode()
    with pytest.raises(BadSignature):
        crypt.unseal(MSG_SIGNATURE, MSG_TIMESTAMP, MSG_NONCE, forged)
    resigned = signature(TOKEN, MSG_TIMESTAMP, MSG_NONCE, forged)
    with pytest.raises(BadPadding):
        crypt.unseal(resigned, MSG_TIMESTAMP, MSG_NONCE, forged)


def test_passive_reply_envelope(crypt: MsgCrypt) -> None:
    from defusedxml.ElementTree import fromstring

    envelope = fromstring(crypt.seal_reply("<xml><Content>好</Content></xml>", "1700000000", "7"))
    encrypted = envelope.findtext("Encrypt") or ""
    signed = envelope.findtext("MsgSignature") or ""
    assert envelope.findtext("TimeStamp") == "1700000000"
    assert envelope.findtext("Nonce") == "7"
    assert crypt.unseal(signed, "1700000000", "7", encrypted).decode() == (
        "<xml><Content>好</Content></xml>"
    )


@pytest.mark.parametrize("key", ["", "short", AES_KEY + "A", AES_KEY[:-1] + "+", AES_KEY[:-1]])
def test_malformed_encoding_aes_key(key: str) -> None:
    with pytest.raises(BadKey):
        MsgCrypt(TOKEN, key, CORP_ID)


def test_errors_hold_no_key_material(crypt: MsgCrypt) -> None:
    with pytest.raises(BadSignature) as bad:
        crypt.unseal("0" * 40, MSG_TIMESTAMP, MSG_NONCE, MSG_ENCRYPT)
    text = str(bad.value) + repr(bad.value)
    assert TOKEN not in text
    assert AES_KEY not in text
    assert signature(TOKEN, MSG_TIMESTAMP, MSG_NONCE, MSG_ENCRYPT) not in text
