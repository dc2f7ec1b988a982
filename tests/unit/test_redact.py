"""Secrets are masked by name and by value."""

from __future__ import annotations

from wfmon.redact import MASK, Redactor


def test_values_are_masked_wherever_they_appear() -> None:
    r = Redactor()
    r.add("hunter22")
    r.add("hunter22-long")  # a secret containing another is masked whole
    r.add("ab")  # too short to mask by value: would mask ordinary text
    assert r.text("pw=hunter22-long; again hunter22; ab") == f"pw={MASK}; again {MASK}; ab"
    assert r.value({"a": ["x hunter22", 1]}) == {"a": [f"x {MASK}", 1]}


def test_headers_by_name() -> None:
    r = Redactor()
    out = r.headers({"Authorization": "Bearer x", "Set-Cookie": "s=1", "Content-Type": "json"})
    assert out == {"Authorization": MASK, "Set-Cookie": MASK, "Content-Type": "json"}


def test_urls_lose_userinfo_and_token_parameters() -> None:
    r = Redactor()
    url = r.url("https://user:pw@example.com/p?api_key=k1&page=2&access_token=zz")
    assert url == f"https://{MASK}@example.com/p?api_key={MASK}&page=2&access_token={MASK}"


def test_nothing_to_mask_is_cheap_and_identical() -> None:
    r = Redactor()
    assert not r
    assert r.text("plain") == "plain"
