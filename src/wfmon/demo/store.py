"""The shop's data, in memory: users and sessions, farms, products, carts and orders.

Rules live here (who may delete a farm, what makes an order), so the handlers only translate
HTTP. Everything resets when the shop restarts or `POST /admin/reset` is called.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
from dataclasses import replace

from wfmon.clock import Clock
from wfmon.demo.problems import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from wfmon.demo.records import Farm, Line, Order, Product, User
from wfmon.demo.seed import FARMS

DEMO_EMAIL = "demo@example.com"
# Public on purpose: the demo account exists to be logged into. Override with $DEMO_PASSWORD.
DEFAULT_DEMO_PASSWORD = "farmers-market"  # noqa: S105
MIN_PASSWORD = 8
MAX_QUANTITY = 99
SYSTEM_USER_ID = 0  # owns the seeded farms, so no journey can delete them

# Deliberately cheap: the latency model already charges login for hashing, and a real cost
# here would slow every test that logs in. Never copy these numbers into production.
_HASH_ITERATIONS = 2_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _HASH_ITERATIONS)


class Store:
    """One shop's state. Not thread-safe: aiohttp runs handlers on one event loop."""

    def __init__(self, clock: Clock, demo_password: str = DEFAULT_DEMO_PASSWORD) -> None:
        self._clock = clock
        self._user_ids = itertools.count(1)
        self._farm_ids = itertools.count(1)
        self._order_ids = itertools.count(1001)  # order numbers that do not look like ids
        self.users: dict[int, User] = {}
        self._by_email: dict[str, int] = {}
        self._sessions: dict[str, int] = {}
        self.farms: dict[int, Farm] = {}
        self.products: dict[int, Product] = {}
        self._carts: dict[int, dict[int, int]] = {}
        self.orders: dict[int, Order] = {}
        self._seed(demo_password)

    def _seed(self, demo_password: str) -> None:
        # Seeded rows take the first ids, so farm 1 and product 1 exist in every fresh shop.
        product_id = 0
        for seed in FARMS:
            farm = self._add_farm(SYSTEM_USER_ID, seed.name, seed.location, seed.description)
            for name, category, cents, unit, stock in seed.products:
                product_id += 1
                self.products[product_id] = Product(
                    product_id, name, category, cents, unit, farm.id, stock
                )
        self._add_user(DEMO_EMAIL, demo_password, "Demo Shopper")

    # --- users and sessions -----------------------------------------------------------------

    def _add_user(self, email: str, password: str, name: str) -> User:
        salt = secrets.token_bytes(16)
        user = User(next(self._user_ids), email, name, salt, _hash(password, salt))
        self.users[user.id] = user
        self._by_email[email.lower()] = user.id
        return user

    def register(self, email: str, password: str, name: str) -> User:
        email, name = email.strip(), name.strip()
        problems = []
        if not _EMAIL.match(email):
            problems.append({"field": "email", "message": "is not an email address"})
        if len(password) < MIN_PASSWORD:
            problems.append({"field": "password", "message": f"needs {MIN_PASSWORD}+ characters"})
        if not name:
            problems.append({"field": "name", "message": "is empty"})
        if problems:
            raise Invalid("the registration has invalid fields", errors=problems)
        if email.lower() in self._by_email:
            raise Conflict(f"{email} is already registered")
        return self._add_user(email, password, name)

    def login(self, email: str, password: str) -> tuple[str, User]:
        user_id = self._by_email.get(email.strip().lower())
        user = self.users.get(user_id) if user_id is not None else None
        # Same answer for an unknown email and a wrong password: no account enumeration.
        if user is None or not hmac.compare_digest(user.password_hash, _hash(password, user.salt)):
            raise Unauthorized("email or password is wrong")
        token = secrets.token_urlsafe(32)
        self._sessions[token] = user.id
        return token, user

    def user_for_token(self, token: str) -> User | None:
        user_id = self._sessions.get(token)
        return self.users.get(user_id) if user_id is not None else None

    def logout(self, token: str) -> None:
        self._sessions.pop(token, None)

    def delete_user(self, user: User) -> None:
        """Close the account: sessions and cart go; orders stay, as a real shop's would."""
        if user.email == DEMO_EMAIL:
            raise Forbidden("the demo account cannot be deleted")
        self.users.pop(user.id, None)
        self._by_email.pop(user.email.lower(), None)
        self._carts.pop(user.id, None)
        for token in [t for t, uid in self._sessions.items() if uid == user.id]:
            del self._sessions[token]

    # --- farms --------------------------------------------------------------------------------

    def _add_farm(self, owner_id: int, name: str, location: str, description: str) -> Farm:
        created = self._clock.now().isoformat()
        farm = Farm(next(self._farm_ids), name, location, description, owner_id, created)
        self.farms[farm.id] = farm
        return farm

    def create_farm(self, owner: User, name: str, location: str, description: str) -> Farm:
        problems = [
            {"field": key, "message": "is empty"}
            for key, value in (("name", name), ("location", location))
            if not value.strip()
        ]
        if problems:
            raise Invalid("the farm has invalid fields", errors=problems)
        return self._add_farm(owner.id, name.strip(), location.strip(), description.strip())

    def farm(self, farm_id: int) -> Farm:
        farm = self.farms.get(farm_id)
        if farm is None:
            raise NotFound(f"no farm {farm_id}")
        return farm

    def delete_farm(self, user: User, farm_id: int) -> None:
        farm = self.farm(farm_id)
        if farm.owner_id != user.id:
            raise Forbidden(f"farm {farm_id} belongs to someone else")
        del self.farms[farm_id]

    # --- products -------------------------------------------------------------------------------

    def search_products(self, q: str, farm_id: int | None, in_stock: bool | None) -> list[Product]:
        words = q.lower().split()
        return [
            p
            for p in self.products.values()
            if all(w in f"{p.name} {p.category}".lower() for w in words)
            and (farm_id is None or p.farm_id == farm_id)
            and (in_stock is None or p.in_stock == in_stock)
        ]

    def product(self, product_id: int) -> Product:
        product = self.products.get(product_id)
        if product is None:
            raise NotFound(f"no product {product_id}")
        return product

    # --- cart and orders --------------------------------------------------------------------

    def add_to_cart(self, user: User, product_id: int, quantity: int) -> list[Line]:
        if not 1 <= quantity <= MAX_QUANTITY:
            raise Invalid(f"quantity must be 1 to {MAX_QUANTITY}")
        product = self.product(product_id)
        if not product.in_stock:
            raise Conflict(f"{product.name} is out of stock")
        cart = self._carts.setdefault(user.id, {})
        cart[product_id] = min(MAX_QUANTITY, cart.get(product_id, 0) + quantity)
        return self.cart(user)

    def cart(self, user: User) -> list[Line]:
        lines = []
        for product_id, quantity in self._carts.get(user.id, {}).items():
            product = self.products[product_id]
            lines.append(Line(product_id, product.name, quantity, product.price_cents))
        return lines

    def clear_cart(self, user: User) -> None:
        self._carts.pop(user.id, None)

    def place_order(self, user: User) -> Order:
        lines = self.cart(user)
        if not lines:
            raise Invalid("the cart is empty; add items before placing an order")
        order = Order(
            next(self._order_ids), user.id, "placed", tuple(lines), self._clock.now().isoformat()
        )
        self.orders[order.id] = order
        self.clear_cart(user)
        return order

    def order(self, user: User, order_id: int) -> Order:
        order = self.orders.get(order_id)
        # Someone else's order is "not found", not "forbidden": ids are not to be probed.
        if order is None or order.user_id != user.id:
            raise NotFound(f"no order {order_id}")
        return order

    def user_orders(self, user: User) -> list[Order]:
        return [o for o in self.orders.values() if o.user_id == user.id]

    def cancel_order(self, user: User, order_id: int) -> Order:
        """Idempotent, so a cleanup step that is retried does not fail the second time."""
        order = replace(self.order(user, order_id), status="cancelled")
        self.orders[order_id] = order
        return order
