"""The catalogue every fresh shop starts with: six farms and thirty products.

Prices are in cents so totals add up exactly. A few products are out of stock, so a journey
that picks "the first product" without filtering meets a realistic 409.
"""

from __future__ import annotations

from typing import NamedTuple


class SeedFarm(NamedTuple):
    name: str
    location: str
    description: str
    products: tuple[tuple[str, str, int, str, bool], ...]  # name, category, cents, unit, stock


FARMS: tuple[SeedFarm, ...] = (
    SeedFarm(
        "Green Valley Farm",
        "Hudson Valley, NY",
        "Organic vegetables picked the morning of the market.",
        (
            ("Heirloom Tomatoes", "vegetables", 450, "kg", True),
            ("Rainbow Carrots", "vegetables", 320, "bunch", True),
            ("Baby Spinach", "vegetables", 380, "bag", True),
            ("Butternut Squash", "vegetables", 275, "each", True),
            ("Purple Kale", "vegetables", 300, "bunch", False),
        ),
    ),
    SeedFarm(
        "Sunny Orchard",
        "Yakima, WA",
        "Family orchard growing apples, pears and stone fruit since 1952.",
        (
            ("Honeycrisp Apples", "fruit", 520, "kg", True),
            ("Bartlett Pears", "fruit", 480, "kg", True),
            ("Apple Cider", "drinks", 650, "litre", True),
            ("Peaches", "fruit", 590, "kg", False),
            ("Dried Apple Rings", "fruit", 400, "bag", True),
        ),
    ),
    SeedFarm(
        "Meadow Creamery",
        "Wells, VT",
        "Small-batch cheese and butter from grass-fed cows.",
        (
            ("Aged Cheddar", "cheese", 890, "250g", True),
            ("Fresh Goat Cheese", "cheese", 720, "200g", True),
            ("Cultured Butter", "dairy", 610, "250g", True),
            ("Whole Milk", "dairy", 350, "litre", True),
            ("Smoked Gouda", "cheese", 940, "250g", False),
        ),
    ),
    SeedFarm(
        "Busy Bee Apiary",
        "Asheville, NC",
        "Raw honey and beeswax from hives in the Blue Ridge foothills.",
        (
            ("Wildflower Honey", "honey", 1200, "jar", True),
            ("Clover Honey", "honey", 1050, "jar", True),
            ("Honeycomb", "honey", 1600, "box", True),
            ("Beeswax Candles", "home", 900, "pair", True),
            ("Buckwheat Honey", "honey", 1300, "jar", True),
        ),
    ),
    SeedFarm(
        "Hillside Bakery",
        "Sonoma, CA",
        "Sourdough and pastries baked in a wood-fired oven.",
        (
            ("Country Sourdough", "bakery", 750, "loaf", True),
            ("Rye Bread", "bakery", 680, "loaf", True),
            ("Apple Turnovers", "bakery", 450, "pair", True),
            ("Cinnamon Rolls", "bakery", 520, "pair", False),
            ("Seeded Baguette", "bakery", 400, "each", True),
        ),
    ),
    SeedFarm(
        "Riverbend Eggs & Herbs",
        "Lancaster, PA",
        "Pasture-raised eggs and fresh-cut herbs.",
        (
            ("Free-Range Eggs", "eggs", 600, "dozen", True),
            ("Duck Eggs", "eggs", 850, "half dozen", True),
            ("Fresh Basil", "herbs", 250, "bunch", True),
            ("Rosemary", "herbs", 200, "bunch", True),
            ("Mint", "herbs", 200, "bunch", True),
        ),
    ),
)
