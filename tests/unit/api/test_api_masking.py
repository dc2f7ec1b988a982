"""What the API shows of definitions and results: secrets masked by name."""

from __future__ import annotations

import pytest

from wfmon.api.masking import mask_definition, mask_headers, mask_named


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # A literal secret under a secret-looking key is masked...
        ({"password": "hunter2"}, {"password": "***"}),
        ({"headers": {"Authorization": "Bearer abc"}}, {"headers": {"Authorization": "***"}}),
        ({"api_key": "k"}, {"api_key": "***"}),
        # ...a reference to one is shown: it says where the secret comes from.
        ({"password": "${env:SHOP_PASSWORD}"}, {"password": "${env:SHOP_PASSWORD}"}),
        ({"token": "{{ steps.login.token }}"}, {"token": "{{ steps.login.token }}"}),
        # URLs lose credentials and token-like parameters.
        (
            {"url": "https://u:p@shop.test/?token=abc&q=1"},
            {"url": "https://***@shop.test/?token=***&q=1"},
        ),
        # A `secret: true` variable's value is masked whatever it is called.
        (
            {"vars": {"x": {"value": "v", "secret": True}}},
            {"vars": {"x": {"value": "***", "secret": True}}},
        ),
        # Everything else is left alone.
        (
            {"name": "checkout", "steps": [{"name": "home"}]},
            {"name": "checkout", "steps": [{"name": "home"}]},
        ),
    ],
)
def test_definitions_are_masked_by_name(value: object, expected: object) -> None:
    assert mask_definition(value) == expected


def test_extracted_values_and_headers_are_masked_by_name() -> None:
    assert mask_named({"session_id": "s", "order": 42, "token": None}) == {
        "session_id": "***",
        "order": 42,
        "token": None,
    }
    assert mask_headers({"Cookie": "a=1", "Accept": "json"}) == {"Cookie": "***", "Accept": "json"}
