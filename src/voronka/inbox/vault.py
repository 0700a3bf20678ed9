"""Channel credentials encrypted at rest (Fernet), and shown back only masked.

The key comes from the ``VORONKA_SECRETS_KEY`` setting (any string; set it in production so that
rotating ``SECRET_KEY`` does not lose the channels' tokens), else it is derived from
``SECRET_KEY``. Either way the string is stretched with HKDF into a Fernet key.
"""

from __future__ import annotations

import base64
import functools
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

MASK = "••••"


def _fernet() -> Fernet:
    return _fernet_for(getattr(settings, "VORONKA_SECRETS_KEY", "") or settings.SECRET_KEY)


@functools.lru_cache(maxsize=8)
def _fernet_for(secret: str) -> Fernet:
    """Derived once per key: every webhook delivery decrypts its channel's credentials."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"voronka channel credentials"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(values: dict[str, str]) -> str:
    """The credentials as one Fernet token (text), ready for the database."""
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    """The credentials back; an empty or undecryptable token (the key changed) gives {}."""
    if not token:
        return {}
    try:
        return json.loads(
            _plain(token, getattr(settings, "VORONKA_SECRETS_KEY", "") or settings.SECRET_KEY)
        )
    except (InvalidToken, ValueError):
        return {}


@functools.lru_cache(maxsize=256)
def _plain(token: str, secret: str) -> bytes:
    """A token decrypted once per key: every webhook delivery reads its channel's secret."""
    return _fernet_for(secret).decrypt(token.encode())


def mask(value: str) -> str:
    """A secret as it may be shown: its last four characters at most, and only if long enough."""
    value = value or ""
    if not value:
        return ""
    if len(value) < 12:
        return MASK
    return MASK + value[-4:]
