"""WeCom callback crypto (the official WXBizMsgCrypt, on `cryptography`).

A callback carries `Encrypt` = base64(AES-256-CBC(random(16) | len(msg), 4 bytes big-endian |
msg | receiveid)), padded PKCS#7-style to a multiple of 32 bytes, with IV = key[:16], and a
`msg_signature` = sha1 of the sorted token, timestamp, nonce and Encrypt. The signature is
checked first (in constant time), so nothing unsigned is ever decrypted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16
_KEY_CHARS = re.compile(r"[A-Za-z0-9]{43}")
_LENGTH = struct.Struct(">I")
_HEADER = 16 + _LENGTH.size  # random prefix + message length


class CryptoError(Exception):
    """A callback that must be rejected; the message never holds key material."""


class BadSignature(CryptoError):
    """msg_signature does not match token, timestamp, nonce and the ciphertext."""


class BadCiphertext(CryptoError):
    """Encrypt is not base64 of whole AES blocks, or its plaintext is malformed."""


class BadPadding(BadCiphertext):
    """The decrypted padding is not 1..32 equal bytes."""


class WrongReceiver(CryptoError):
    """The plaintext is addressed to another CorpID."""


class BadKey(ValueError):
    """The EncodingAESKey is not 43 letters and digits."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """Return WeCom's msg_signature: sha1 over the four values sorted and joined, in hex."""
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode()).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    """Decode the 43-character EncodingAESKey into the 32-byte AES key."""
    if not _KEY_CHARS.fullmatch(encoding_aes_key):
        raise BadKey("EncodingAESKey 应为 43 位字母和数字")
    return base64.b64decode(encoding_aes_key + "=")


class MsgCrypt:
    """Checks, decrypts and encrypts the callbacks of one app (token, key, CorpID)."""

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        receive_id: str,
        *,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._token = token
        key = aes_key(encoding_aes_key)
        # Built once: each callback only opens a context on it (building it costs more than
        # decrypting a message).
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))
        self.receive_id = receive_id
        self._random = random_bytes

    def check_signature(
        self, msg_signature: str, timestamp: str, nonce: str, encrypt: str
    ) -> None:
        """Raise BadSignature unless `msg_signature` signs these values."""
        expected = signature(self._token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), msg_signature.lower().encode()):
            raise BadSignature("签名不符")

    def decrypt(self, encrypt: str) -> bytes:
        """Return the message inside `encrypt`; its receiveid must be our CorpID."""
        try:
            data = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise BadCiphertext("密文不是合法的 base64") from None
        if not data or len(data) % BLOCK:
            raise BadPadding("密文长度不是 32 字节的整数倍")
        decryptor = self._cipher.decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        plain = _unpad(padded)
        if len(plain) < _HEADER:
            raise BadCiphertext("明文过短")
        (length,) = _LENGTH.unpack_from(plain, 16)
        end = _HEADER + length
        if end > len(plain):
            raise BadCiphertext("明文长度字段越界")
        receiver = plain[end:]
        if not hmac.compare_digest(receiver, self.receive_id.encode()):
            raise WrongReceiver("receiveid 与 CorpID 不符")
        return plain[_HEADER:end]

    def unseal(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> bytes:
        """Check the signature, then decrypt: the message of a POSTed callback."""
        self.check_signature(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """Answer WeCom's URL verification: the plaintext inside the signed `echostr`."""
        plain = self.unseal(msg_signature, timestamp, nonce, echostr)
        try:
            return plain.decode()
        except UnicodeDecodeError:
            raise BadCiphertext("echostr 明文不是 UTF-8") from None

    def encrypt(self, message: bytes) -> str:
        """Return `message` encrypted for our CorpID, as WeCom encrypts it (base64)."""
        plain = self._random(16) + _LENGTH.pack(len(message)) + message + self.receive_id.encode()
        encryptor = self._cipher.encryptor()
        return base64.b64encode(encryptor.update(_pad(plain)) + encryptor.finalize()).decode()

    def seal(self, message: bytes, timestamp: str, nonce: str) -> tuple[str, str]:
        """Encrypt `message` and sign it: (Encrypt, msg_signature)."""
        encrypted = self.encrypt(message)
        return encrypted, signature(self._token, timestamp, nonce, encrypted)

    def seal_reply(self, xml: str, timestamp: str, nonce: str) -> str:
        """Wrap a passive-reply XML in WeCom's encrypted envelope."""
        encrypted, signed = self.seal(xml.encode(), timestamp, nonce)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signed}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )


def _pad(data: bytes) -> bytes:
    """Pad to a multiple of 32 bytes: n bytes of value n, 1..32 (a whole block if aligned)."""
    n = BLOCK - len(data) % BLOCK
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    """Strip the padding, checking it strictly (the official sample does not)."""
    n = data[-1]
    if not 1 <= n <= BLOCK or data[-n:] != bytes([n]) * n:
        raise BadPadding("填充不合法")
    return data[:-n]
