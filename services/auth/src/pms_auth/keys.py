"""Signing keys: loading them from settings, the development key pair, and the JWKS.

Access tokens are signed with one current Ed25519 key. The JWKS publishes its public key
and the public keys of previous ones, so tokens signed just before a rotation still
verify until they expire. Key ids are RFC 7638 thumbprints: the same key always gets the
same id, on every replica, with nothing to configure.
"""

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from pms_auth.settings import AuthSettings
from pms_platform.logging import get_logger
from pms_platform.security import TOKEN_ALGORITHM

DEVELOPMENT_KEY_FILE = "signing-key.pem"
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)
_log = get_logger("pms_auth.keys")


class SigningKeyError(ValueError):
    """A configured key cannot be used (not PEM, not Ed25519, encrypted...)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 thumbprint: SHA-256 of the required members in lexicographic order."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw_public_bytes(public_key))}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return _b64url(hashlib.sha256(canonical).digest())


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(_raw_public_bytes(public_key)),
        "kid": thumbprint(public_key),
        "use": "sig",
        "alg": TOKEN_ALGORITHM,
    }


@dataclass(frozen=True)
class KeySet:
    """The current signing key and the public keys that still verify older tokens."""

    signing_key: Ed25519PrivateKey
    previous_public_keys: tuple[Ed25519PublicKey, ...] = ()
    kid: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kid", thumbprint(self.signing_key.public_key()))

    def jwks(self) -> dict[str, Any]:
        keys = [public_jwk(self.signing_key.public_key())]
        for public_key in self.previous_public_keys:
            jwk = public_jwk(public_key)
            if jwk["kid"] not in {key["kid"] for key in keys}:
                keys.append(jwk)
        return {"keys": keys}


def _private_key_from_pem(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"the signing key is not a usable PEM private key: {error}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("the signing key must be an Ed25519 private key")
    return key


def public_keys_from_pem(pem: bytes) -> tuple[Ed25519PublicKey, ...]:
    """Every key in a run of PEM blocks; a private key block contributes its public key."""
    keys: list[Ed25519PublicKey] = []
    for match in _PEM_BLOCK.finditer(pem):
        block = match.group(0)
        if b"PRIVATE KEY" in match.group(1):
            keys.append(_private_key_from_pem(block).public_key())
            continue
        try:
            key = load_pem_public_key(block)
        except ValueError as error:
            raise SigningKeyError(f"a previous public key is not usable: {error}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError("previous public keys must be Ed25519 keys")
        keys.append(key)
    return tuple(keys)


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def _development_key(directory: Path) -> Ed25519PrivateKey:
    """The development key pair kept in ``directory`` (made on first use, mode 0600)."""
    path = directory / DEVELOPMENT_KEY_FILE
    if not path.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        try:
            # O_EXCL: when two replicas start together, one writes and both read its key.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as file:
                file.write(private_key_pem(key))
            _log.warning("generated a development signing key", path=str(path))
    _log.warning(
        "using the development signing key; configure PMS_AUTH_SIGNING_KEY for production",
        path=str(path),
    )
    return _private_key_from_pem(path.read_bytes())


def load_key_set(settings: AuthSettings) -> KeySet:
    """The keys the settings name; without any, the development key (never in production:
    the settings refuse to validate there without a configured key)."""
    if settings.signing_key is not None:
        signing_key = _private_key_from_pem(settings.signing_key.get_secret_value().encode())
    elif settings.signing_key_file is not None:
        signing_key = _private_key_from_pem(settings.signing_key_file.read_bytes())
    else:
        signing_key = _development_key(settings.development_key_dir)
    previous: tuple[Ed25519PublicKey, ...] = ()
    if settings.previous_public_keys:
        previous += public_keys_from_pem(settings.previous_public_keys.encode())
    if settings.previous_public_keys_file is not None:
        previous += public_keys_from_pem(settings.previous_public_keys_file.read_bytes())
    return KeySet(signing_key, previous)
