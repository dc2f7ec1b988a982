"""Password hashes: scrypt, self-describing, compared in constant time."""

from __future__ import annotations

import pytest

from wfmon.api.auth.passwords import (
    WeakPassword,
    check_strength,
    generate_password,
    hash_password,
    verify_or_waste,
    verify_password,
)


def test_a_password_verifies_against_its_hash_and_nothing_else() -> None:
    stored = hash_password("correct horse", n=2**4)
    assert stored.startswith("scrypt$16$8$1$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsf", stored)
    assert hash_password("correct horse", n=2**4) != stored  # salted


@pytest.mark.parametrize(
    "stored", ["", "plain", "bcrypt$1$2$3$a$b", "scrypt$x$8$1$AA==$AA==", "scrypt$16$8$1$!!$!!"]
)
def test_a_malformed_hash_never_verifies(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_an_unknown_user_costs_a_hash_and_fails() -> None:
    assert not verify_or_waste("anything", None)


def test_weak_passwords_are_refused_and_generated_ones_are_not() -> None:
    with pytest.raises(WeakPassword):
        check_strength("short")
    with pytest.raises(WeakPassword):
        check_strength("x" * 2000)
    check_strength(generate_password())
    assert generate_password() != generate_password()
