"""The Farmers Market shop, started for real on loopback and called over HTTP."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from wfmon.clock import FakeClock
from wfmon.demo import FaultPlan, ShopHandle, running_shop

ADMIN = {"X-Admin-Token": "demo-admin"}
DEMO = {"email": "demo@example.com", "password": "farmers-market"}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def shop(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ShopHandle]:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    async with running_shop(latency_scale=0) as handle:
        yield handle


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, Any, aiohttp.ClientResponse]:
    """Status, decoded body (JSON when it is JSON, else text or None) and the response."""
    async with http.request(method, url, **kwargs) as resp:
        text = await resp.text()
        body: Any = text or None
        if text and "json" in resp.content_type:
            body = await resp.json(content_type=None)
        return resp.status, body, resp


async def login(http: aiohttp.ClientSession, shop: ShopHandle, creds: dict[str, str]) -> str:
    status, body, _ = await call(http, "POST", f"{shop.base_url}/api/auth/login", json=creds)
    assert status == 200, body
    token = body["token"]
    assert isinstance(token, str)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(body: Any, resp: aiohttp.ClientResponse, status: int) -> None:
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert body["type"].startswith("https://")


# --- pages and health ----------------------------------------------------------------------


async def test_home_page_and_health(shop: ShopHandle, http: aiohttp.ClientSession) -> None:
    status, page, resp = await call(http, "GET", shop.base_url + "/")
    assert status == 200
    assert resp.content_type == "text/html"
    assert "<title>Farmers Market</title>" in page

    status, health, _ = await call(http, "GET", shop.base_url + "/health")
    assert status == 200
    assert health["status"] == "ok"
    assert health["version"]
    assert health["uptime_s"] >= 0


async def test_every_response_carries_a_request_id(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    _, _, ok = await call(http, "GET", shop.base_url + "/health")
    _, _, missing = await call(http, "GET", shop.base_url + "/no/such/page")
    _, _, given = await call(
        http, "GET", shop.base_url + "/health", headers={"X-Request-Id": "probe-123"}
    )
    assert ok.headers["X-Request-Id"] != missing.headers["X-Request-Id"]
    assert len(ok.headers["X-Request-Id"]) >= 16
    assert given.headers["X-Request-Id"] == "probe-123"  # a caller's id is kept


# --- auth ----------------------------------------------------------------------------------


async def test_login_returns_a_token_and_the_user(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    status, body, _ = await call(http, "POST", f"{shop.base_url}/api/auth/login", json=DEMO)
    assert status == 200
    assert body["user"]["email"] == "demo@example.com"
    assert {"id", "email", "name"} <= set(body["user"])
    assert len(body["token"]) >= 32
    assert await login(http, shop, DEMO) != body["token"]  # every login gets its own token


async def test_login_with_a_wrong_password_is_a_401_problem(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    wrong = {"email": "demo@example.com", "password": "not-the-password"}
    _, body, resp = await call(http, "POST", f"{shop.base_url}/api/auth/login", json=wrong)
    assert_problem(body, resp, 401)
    assert "token" not in body
    # An unknown email reads the same, so accounts cannot be enumerated.
    nobody = {"email": "nobody@example.com", "password": "whatever1"}
    _, other, _ = await call(http, "POST", f"{shop.base_url}/api/auth/login", json=nobody)
    assert other["detail"] == body["detail"]


async def test_demo_password_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, http: aiohttp.ClientSession
) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "s3cret-from-env")
    async with running_shop(latency_scale=0) as shop:
        url = f"{shop.base_url}/api/auth/login"
        status, _, _ = await call(http, "POST", url, json=DEMO)
        assert status == 401
        await login(http, shop, {"email": "demo@example.com", "password": "s3cret-from-env"})


async def test_me_needs_a_live_token(shop: ShopHandle, http: aiohttp.ClientSession) -> None:
    me = f"{shop.base_url}/api/me"
    _, body, resp = await call(http, "GET", me)
    assert_problem(body, resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")

    token = await login(http, shop, DEMO)
    status, user, _ = await call(http, "GET", me, headers=bearer(token))
    assert status == 200
    assert user["email"] == "demo@example.com"

    status, _, _ = await call(
        http, "POST", f"{shop.base_url}/api/auth/logout", headers=bearer(token)
    )
    assert status == 204
    status, _, _ = await call(http, "GET", me, headers=bearer(token))
    assert status == 401  # the logged-out token is dead


async def test_register_then_log_in_as_the_new_user(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    new = {"email": "ada@example.com", "password": "correct-horse", "name": "Ada"}
    status, user, _ = await call(http, "POST", f"{shop.base_url}/api/auth/register", json=new)
    assert status == 201
    assert user["email"] == "ada@example.com"
    assert user["name"] == "Ada"
    assert "password" not in user

    token = await login(http, shop, {"email": new["email"], "password": new["password"]})
    _, me, _ = await call(http, "GET", f"{shop.base_url}/api/me", headers=bearer(token))
    assert me["id"] == user["id"]

    # Closing the account (how registration journeys clean up) ends its sessions too.
    status, _, _ = await call(http, "DELETE", f"{shop.base_url}/api/me", headers=bearer(token))
    assert status == 204
    status, _, _ = await call(http, "GET", f"{shop.base_url}/api/me", headers=bearer(token))
    assert status == 401


async def test_registering_a_taken_email_is_a_conflict(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    # Emails compare without case: Demo@ and demo@ are one account.
    taken = {"email": "Demo@Example.com", "password": "long-enough", "name": "Copycat"}
    _, body, resp = await call(http, "POST", f"{shop.base_url}/api/auth/register", json=taken)
    assert_problem(body, resp, 409)


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"email": "no-at-sign.example.com", "password": "long-enough", "name": "A"}, "email"),
        ({"email": "short@example.com", "password": "1234567", "name": "A"}, "password"),
        ({"email": "noname@example.com", "password": "long-enough", "name": " "}, "name"),
        ({"email": "a@example.com", "password": 12345678, "name": "A"}, "password"),  # not text
        ({"email": "a@example.com", "name": "A"}, "password"),  # missing
    ],
)
async def test_invalid_registration_is_a_422_naming_the_field(
    shop: ShopHandle, http: aiohttp.ClientSession, fields: dict[str, Any], bad_field: str
) -> None:
    _, body, resp = await call(http, "POST", f"{shop.base_url}/api/auth/register", json=fields)
    assert_problem(body, resp, 422)
    assert bad_field in {e["field"] for e in body["errors"]}


# --- catalogue -----------------------------------------------------------------------------


async def test_products_can_be_searched_filtered_and_paged(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    url = f"{shop.base_url}/api/products"
    _, everything, _ = await call(http, "GET", url, params={"limit": "100"})
    assert everything["total"] == len(everything["items"]) >= 30
    assert {"id", "name", "price", "farm_id", "in_stock"} <= set(everything["items"][0])

    _, apples, _ = await call(http, "GET", url, params={"q": "apple"})
    assert apples["total"] >= 2
    assert all("apple" in p["name"].lower() for p in apples["items"])

    _, farm2, _ = await call(http, "GET", url, params={"farm_id": "2", "in_stock": "true"})
    assert farm2["items"]
    assert all(p["farm_id"] == 2 and p["in_stock"] for p in farm2["items"])

    _, page, _ = await call(http, "GET", url, params={"limit": "5", "offset": "5"})
    assert [p["id"] for p in page["items"]] == [p["id"] for p in everything["items"][5:10]]
    assert page["total"] == everything["total"]

    status, one, _ = await call(http, "GET", f"{url}/{page['items'][0]['id']}")
    assert status == 200
    assert one == page["items"][0]

    _, body, resp = await call(http, "GET", url, params={"limit": "lots"})
    assert_problem(body, resp, 422)


async def test_a_farm_can_be_created_read_and_deleted_by_its_owner(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    auth = bearer(await login(http, shop, DEMO))
    farms = f"{shop.base_url}/api/farms"
    new = {"name": "Monitor Farm", "location": "Loopback", "description": "made by a test"}

    status, _, _ = await call(http, "POST", farms, json=new)
    assert status == 401  # creating needs a login
    status, farm, resp = await call(http, "POST", farms, json=new, headers=auth)
    assert status == 201
    assert resp.headers["Location"] == f"/api/farms/{farm['id']}"
    _, listed, _ = await call(http, "GET", farms, params={"limit": "100"})
    assert farm["id"] in {f["id"] for f in listed["items"]}

    status, got, _ = await call(http, "GET", f"{farms}/{farm['id']}")
    assert (status, got["name"]) == (200, "Monitor Farm")
    status, _, _ = await call(http, "DELETE", f"{farms}/{farm['id']}", headers=auth)
    assert status == 204
    _, body, resp = await call(http, "GET", f"{farms}/{farm['id']}")
    assert_problem(body, resp, 404)

    # Seeded farms belong to the shop: nobody may delete them.
    _, body, resp = await call(http, "DELETE", f"{farms}/1", headers=auth)
    assert_problem(body, resp, 403)


async def test_the_order_journey_end_to_end(shop: ShopHandle, http: aiohttp.ClientSession) -> None:
    base = shop.base_url
    auth = bearer(await login(http, shop, DEMO))
    _, body, resp = await call(http, "POST", f"{base}/api/orders", headers=auth)
    assert_problem(body, resp, 422)  # nothing in the cart yet

    _, stock, _ = await call(http, "GET", f"{base}/api/products", params={"in_stock": "true"})
    first, second = stock["items"][0], stock["items"][1]
    item = {"product_id": first["id"], "quantity": 2}
    status, cart, _ = await call(http, "POST", f"{base}/api/cart/items", json=item, headers=auth)
    assert status == 201
    assert cart["items"][0]["quantity"] == 2
    await call(
        http, "POST", f"{base}/api/cart/items", json={"product_id": second["id"]}, headers=auth
    )
    _, cart, _ = await call(http, "GET", f"{base}/api/cart", headers=auth)
    expected_total = round(2 * first["price"] + second["price"], 2)
    assert cart["total"] == pytest.approx(expected_total)

    status, order, _ = await call(http, "POST", f"{base}/api/orders", headers=auth)
    assert status == 201
    assert order["status"] == "placed"
    assert order["total"] == pytest.approx(expected_total)
    assert [i["product_id"] for i in order["items"]] == [first["id"], second["id"]]
    _, cart, _ = await call(http, "GET", f"{base}/api/cart", headers=auth)
    assert cart["items"] == []  # placing the order empties the cart

    status, got, _ = await call(http, "GET", f"{base}/api/orders/{order['id']}", headers=auth)
    assert (status, got["id"]) == (200, order["id"])
    status, cancelled, _ = await call(
        http, "DELETE", f"{base}/api/orders/{order['id']}", headers=auth
    )
    assert (status, cancelled["status"]) == (200, "cancelled")
    _, again, _ = await call(http, "GET", f"{base}/api/orders/{order['id']}", headers=auth)
    assert again["status"] == "cancelled"


async def test_other_users_orders_and_sold_out_products_are_refused(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    base = shop.base_url
    demo = bearer(await login(http, shop, DEMO))
    _, sold_out, _ = await call(http, "GET", f"{base}/api/products", params={"in_stock": "no"})
    gone = {"product_id": sold_out["items"][0]["id"], "quantity": 1}
    _, body, resp = await call(http, "POST", f"{base}/api/cart/items", json=gone, headers=demo)
    assert_problem(body, resp, 409)

    await call(http, "POST", f"{base}/api/cart/items", json={"product_id": 1}, headers=demo)
    _, order, _ = await call(http, "POST", f"{base}/api/orders", headers=demo)
    eve = {"email": "eve@example.com", "password": "eavesdropper", "name": "Eve"}
    await call(http, "POST", f"{base}/api/auth/register", json=eve)
    other = bearer(await login(http, shop, {"email": eve["email"], "password": eve["password"]}))
    _, body, resp = await call(http, "GET", f"{base}/api/orders/{order['id']}", headers=other)
    assert_problem(body, resp, 404)  # not 403: order ids are not to be probed


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/api/nothing-here", {}, 404),  # the router's 404
        ("PATCH", "/health", {}, 405),  # the router's 405
        ("POST", "/api/auth/login", {"data": b"{not json"}, 400),  # unreadable body
        ("POST", "/api/auth/login", {"json": ["a", "list"]}, 400),  # JSON, but not an object
        ("GET", "/api/products/9999", {}, 404),  # the store's 404
    ],
)
async def test_errors_are_problem_json(
    shop: ShopHandle,
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    _, body, resp = await call(http, method, shop.base_url + path, **kwargs)
    assert_problem(body, resp, status)
    assert body["instance"] == path
    if status == 405:
        assert "GET" in resp.headers["Allow"]


# --- admin and faults ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/faults"),
        ("PUT", "/admin/faults"),
        ("DELETE", "/admin/faults"),
        ("POST", "/admin/reset"),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"X-Admin-Token": "guess"}], ids=["none", "wrong"])
async def test_admin_needs_the_token(
    shop: ShopHandle,
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    plan = shop.set_faults({"latency_ms": 5})
    _, body, resp = await call(
        http, method, shop.base_url + path, headers=headers, json={"down": ["login"]}
    )
    assert_problem(body, resp, 401)
    assert shop.state.faults == plan  # the refused call changed nothing


async def test_down_login_answers_503_until_cleared(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    url = f"{shop.base_url}/api/auth/login"
    status, plan, _ = await call(
        http, "PUT", f"{shop.base_url}/admin/faults", headers=ADMIN, json={"down": ["login"]}
    )
    assert (status, plan["down"]) == (200, ["login"])
    _, got, _ = await call(http, "GET", f"{shop.base_url}/admin/faults", headers=ADMIN)
    assert got == plan

    _, body, resp = await call(http, "POST", url, json=DEMO)
    assert_problem(body, resp, 503)
    assert resp.headers["X-Fault"] == "down"
    status, _, _ = await call(http, "GET", f"{shop.base_url}/api/products")
    assert status == 200  # only login is down

    status, _, _ = await call(http, "DELETE", f"{shop.base_url}/admin/faults", headers=ADMIN)
    assert status == 204
    status, body, resp = await call(http, "POST", url, json=DEMO)
    assert status == 200
    assert "token" in body
    assert "X-Fault" not in resp.headers


async def test_a_faulted_health_endpoint_says_down(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    shop.set_faults(FaultPlan(down=frozenset({"health"})))
    status, body, _ = await call(http, "GET", f"{shop.base_url}/health")
    assert (status, body["status"]) == (503, "down")


async def test_an_invalid_fault_plan_is_refused(
    shop: ShopHandle, http: aiohttp.ClientSession
) -> None:
    _, body, resp = await call(
        http, "PUT", f"{shop.base_url}/admin/faults", headers=ADMIN, json={"error_rate": 3}
    )
    assert_problem(body, resp, 422)
    assert "error_rate" in body["detail"]
    assert shop.state.faults == FaultPlan()


async def test_reset_restores_the_data_and_the_starting_faults(
    http: aiohttp.ClientSession,
) -> None:
    start = FaultPlan(endpoint_latency_ms={"health": 1})
    async with running_shop(latency_scale=0, faults=start) as shop:
        auth = bearer(await login(http, shop, DEMO))
        _, farm, _ = await call(
            http,
            "POST",
            f"{shop.base_url}/api/farms",
            json={"name": "F", "location": "L"},
            headers=auth,
        )
        shop.set_faults({"down": ["farms"]})
        status, _, _ = await call(http, "POST", f"{shop.base_url}/admin/reset", headers=ADMIN)
        assert status == 204
        assert shop.state.faults == start
        status, _, _ = await call(http, "GET", f"{shop.base_url}/api/farms/{farm['id']}")
        assert status == 404
        status, _, _ = await call(http, "GET", f"{shop.base_url}/api/me", headers=auth)
        assert status == 401  # sessions are data too


async def test_a_bad_deploy_breaks_orders_from_its_moment_on(
    http: aiohttp.ClientSession,
) -> None:
    # A fake clock moves the shop past the deploy without waiting for it.
    clock = FakeClock(NOW)
    async with running_shop(latency_scale=0, clock=clock) as shop:
        shop.set_faults({"bad_deploy_at": "2026-03-01T12:10:00Z"})
        auth = bearer(await login(http, shop, DEMO))
        orders = f"{shop.base_url}/api/orders"
        status, _, _ = await call(http, "GET", orders, headers=auth)
        assert status == 200
        clock.advance(10 * 60)
        _, body, resp = await call(http, "GET", orders, headers=auth)
        assert_problem(body, resp, 500)
        assert resp.headers["X-Fault"] == "bad_deploy"
        status, _, _ = await call(http, "GET", f"{shop.base_url}/api/products")
        assert status == 200


async def test_latency_is_spent_on_the_injected_clock(http: aiohttp.ClientSession) -> None:
    # With a FakeClock the delay advances the clock instead of the test waiting for it.
    clock = FakeClock(NOW)
    async with running_shop(latency_scale=1, clock=clock, rng=random.Random(3)) as shop:
        start = clock.monotonic()
        await call(http, "GET", f"{shop.base_url}/api/products")
        normal = clock.monotonic() - start
        assert 0.005 < normal < 0.5  # a products query's normal latency, jittered

        shop.set_faults({"latency_ms": 300})
        start = clock.monotonic()
        _, _, resp = await call(http, "GET", f"{shop.base_url}/api/products")
        assert clock.monotonic() - start >= 0.3
        assert resp.headers["X-Fault"] == "latency"

        start = clock.monotonic()
        await call(http, "PUT", f"{shop.base_url}/admin/faults", headers=ADMIN, json={})
        assert clock.monotonic() == start  # the admin API is never slowed or faulted
