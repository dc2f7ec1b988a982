"""The shop's records as the API shows them. Money is kept in cents so totals add up exactly;
it becomes a decimal number only in JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def _money(cents: int) -> float:
    return round(cents / 100, 2)


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str
    salt: bytes
    password_hash: bytes

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "name": self.name}


@dataclass(frozen=True)
class Farm:
    id: int
    name: str
    location: str
    description: str
    owner_id: int
    created_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "location": self.location,
            "description": self.description,
            "owner_id": self.owner_id,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    category: str
    price_cents: int
    unit: str
    farm_id: int
    in_stock: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "price": _money(self.price_cents),
            "unit": self.unit,
            "farm_id": self.farm_id,
            "in_stock": self.in_stock,
        }


@dataclass(frozen=True)
class Line:
    """A product and a quantity, priced when the line was read (cart) or placed (order)."""

    product_id: int
    name: str
    quantity: int
    unit_price_cents: int

    @property
    def cents(self) -> int:
        return self.quantity * self.unit_price_cents

    def as_json(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "name": self.name,
            "quantity": self.quantity,
            "unit_price": _money(self.unit_price_cents),
            "line_total": _money(self.cents),
        }


def lines_json(lines: list[Line] | tuple[Line, ...]) -> dict[str, Any]:
    """A cart or an order's items and total, the shape both share."""
    return {
        "items": [line.as_json() for line in lines],
        "total": _money(sum(line.cents for line in lines)),
        "currency": "USD",
    }


@dataclass(frozen=True)
class Order:
    id: int
    user_id: int
    status: str  # placed | cancelled
    lines: tuple[Line, ...]
    created_at: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "created_at": self.created_at} | lines_json(
            self.lines
        )
