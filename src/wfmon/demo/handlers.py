"""The shop's public HTTP handlers: pages, auth, farms, products, cart and orders.

Each handler translates HTTP to a `Store` call and back; rules and errors live in the store.
"""

from __future__ import annotations

from aiohttp import web

from wfmon.demo.inputs import (
    current_user,
    int_field,
    json_body,
    path_id,
    query_bool,
    query_int,
    session,
    text_field,
)
from wfmon.demo.records import lines_json
from wfmon.demo.state import SHOP

MAX_PAGE = 100

HOME_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Farmers Market</title></head>
<body>
<h1>Farmers Market</h1>
<p>Fresh produce from local farms. The API lives under <code>/api</code>:
<a href="/api/products">products</a>, <a href="/api/farms">farms</a>,
<a href="/health">health</a>.</p>
</body>
</html>
"""


async def home(request: web.Request) -> web.Response:
    return web.Response(text=HOME_PAGE, content_type="text/html")


async def health(request: web.Request) -> web.Response:
    shop = request.app[SHOP]
    return web.json_response({"status": "ok", "version": shop.version, "uptime_s": shop.uptime_s()})


# --- auth ----------------------------------------------------------------------------------


async def login(request: web.Request) -> web.Response:
    body = await json_body(request)
    email, password = text_field(body, "email"), text_field(body, "password")
    token, user = request.app[SHOP].store.login(email, password)
    return web.json_response({"token": token, "user": user.as_json()})


async def logout(request: web.Request) -> web.Response:
    # A logout without a valid session is a client bug worth a 401, not a silent 204.
    token, _ = session(request)
    request.app[SHOP].store.logout(token)
    return web.Response(status=204)


async def register(request: web.Request) -> web.Response:
    body = await json_body(request)
    user = request.app[SHOP].store.register(
        text_field(body, "email"), text_field(body, "password"), text_field(body, "name")
    )
    return web.json_response(user.as_json(), status=201)


async def me(request: web.Request) -> web.Response:
    return web.json_response(current_user(request).as_json())


async def delete_me(request: web.Request) -> web.Response:
    """Close the account, so registration journeys leave nothing behind."""
    request.app[SHOP].store.delete_user(current_user(request))
    return web.Response(status=204)


# --- farms ---------------------------------------------------------------------------------


def _page(request: web.Request) -> tuple[int, int]:
    limit = query_int(request, "limit", 20, 1, MAX_PAGE)
    offset = query_int(request, "offset", 0, 0, 1_000_000)
    return limit, offset


async def list_farms(request: web.Request) -> web.Response:
    limit, offset = _page(request)
    farms = list(request.app[SHOP].store.farms.values())
    items = [farm.as_json() for farm in farms[offset : offset + limit]]
    return web.json_response({"items": items, "total": len(farms)})


async def create_farm(request: web.Request) -> web.Response:
    user = current_user(request)
    body = await json_body(request)
    farm = request.app[SHOP].store.create_farm(
        user,
        text_field(body, "name"),
        text_field(body, "location"),
        text_field(body, "description", required=False),
    )
    return web.json_response(
        farm.as_json(), status=201, headers={"Location": f"/api/farms/{farm.id}"}
    )


async def get_farm(request: web.Request) -> web.Response:
    return web.json_response(request.app[SHOP].store.farm(path_id(request)).as_json())


async def delete_farm(request: web.Request) -> web.Response:
    request.app[SHOP].store.delete_farm(current_user(request), path_id(request))
    return web.Response(status=204)


# --- products ------------------------------------------------------------------------------


async def list_products(request: web.Request) -> web.Response:
    limit, offset = _page(request)
    farm_id = query_int(request, "farm_id", 0, 0, 1_000_000) or None
    found = request.app[SHOP].store.search_products(
        request.query.get("q", ""), farm_id, query_bool(request, "in_stock")
    )
    items = [product.as_json() for product in found[offset : offset + limit]]
    return web.json_response({"items": items, "total": len(found)})


async def get_product(request: web.Request) -> web.Response:
    return web.json_response(request.app[SHOP].store.product(path_id(request)).as_json())


# --- cart and orders -----------------------------------------------------------------------


async def get_cart(request: web.Request) -> web.Response:
    lines = request.app[SHOP].store.cart(current_user(request))
    return web.json_response(lines_json(lines))


async def add_cart_item(request: web.Request) -> web.Response:
    user = current_user(request)
    body = await json_body(request)
    lines = request.app[SHOP].store.add_to_cart(
        user, int_field(body, "product_id"), int_field(body, "quantity", default=1)
    )
    return web.json_response(lines_json(lines), status=201)


async def clear_cart(request: web.Request) -> web.Response:
    request.app[SHOP].store.clear_cart(current_user(request))
    return web.Response(status=204)


async def place_order(request: web.Request) -> web.Response:
    order = request.app[SHOP].store.place_order(current_user(request))
    return web.json_response(
        order.as_json(), status=201, headers={"Location": f"/api/orders/{order.id}"}
    )


async def list_orders(request: web.Request) -> web.Response:
    orders = request.app[SHOP].store.user_orders(current_user(request))
    return web.json_response({"items": [o.as_json() for o in orders], "total": len(orders)})


async def get_order(request: web.Request) -> web.Response:
    order = request.app[SHOP].store.order(current_user(request), path_id(request))
    return web.json_response(order.as_json())


async def cancel_order(request: web.Request) -> web.Response:
    order = request.app[SHOP].store.cancel_order(current_user(request), path_id(request))
    return web.json_response(order.as_json())
