"""Password hashing with scrypt (hashlib, no extra dependency) and constant-time checks.

Stored as `scrypt$n$r$p$salt$hash` (base64), so the cost can be raised later and old
hashes still verify. n=2^14, r=8 takes about 16 MiB and 40-60 ms per hash here: cheap
for one login, expensive for a guesser. Hashing runs in a thread (`hash_async`,
`verify_async`) so a login does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1
KEY_LENGTH = 32
MIN_LENGTH = 10
MAX_LENGTH = 1024  # scrypt reads it all: bound the work a request can ask for


class WeakPassword(ValueError):
    pass


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password may have at most {MAX_LENGTH} characters")


def generate_password() -> str:
    """A random password for the first admin (20 URL-safe characters, 120 bits)."""
    return secrets.token_urlsafe(15)


def hash_password(password: str, *, n: int = N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, n, r, p)
    return "$".join(("scrypt", str(n), str(r), str(p), _b64(salt), _b64(key)))


def verify_password(password: str, stored: str) -> bool:
    """True if `password` matches; False for any malformed stored hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy() -> str:
    # Verified when the user does not exist, so a login takes as long either way (the
    # time of an answer must not tell which usernames exist).
    return hash_password("wfmon-dummy-password")


def verify_or_waste(password: str, stored: str | None) -> bool:
    if stored is None:
        verify_password(password, _dummy())
        return False
    return verify_password(password, stored)


async def hash_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_async(password: str, stored: str | None) -> bool:
    return await asyncio.to_thread(verify_or_waste, password, stored)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if len(password) > MAX_LENGTH:
        raise ValueError("password too long")
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=64 * 1024 * 1024,
        dklen=KEY_LENGTH,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
