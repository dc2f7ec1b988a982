"""Jinja2 for the dashboard: autoescaped, strict about undefined names, with the few
filters the templates share (times, durations, ratios, URL parts).

Every value from the database reaches the page through `{{ }}` (escaped) or an attribute
(escaped too); nothing is marked `|safe`. Times are written as UTC text inside
`<time datetime=...>`; the browser's script turns them into local, relative ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from wfmon.web.assets import PlotlyBundle, StaticAssets

DASH = "—"


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return DASH
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_ms(value: float | None) -> str:
    """`840 ms`, `1.24 s`, `2 min 5 s`: what a person reads at a glance."""
    if value is None:
        return DASH
    if value == 0:
        return "0 ms"
    if value < 10:
        return f"{value:.1f} ms"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.2f} s"
    minutes, seconds = divmod(round(value / 1000), 60)
    return f"{minutes} min {seconds} s"


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return DASH
    percent = value * 100
    if percent >= 99.995 or percent == 0:
        return f"{percent:.0f} %"
    return f"{percent:.2f} %"


def fmt_value(value: Any) -> str:
    """An assertion's expected or actual value, as JSON where it is one."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def path_part(value: str) -> str:
    """One URL path segment: `/`, `?`, `#` and `<` are all escaped."""
    return quote(value, safe="")


def query(base: str, params: Mapping[str, Any]) -> str:
    """`base?a=1&b=x` without the empty values; lists become repeated parameters."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None or value == "" or value == []:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, str(v)) for v in values)
    return f"{base}?{urlencode(pairs)}" if pairs else base


class Renderer:
    def __init__(self, assets: StaticAssets, plotly: PlotlyBundle) -> None:
        env = Environment(
            loader=PackageLoader("wfmon.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(
            time=fmt_time, ms=fmt_ms, ratio=fmt_ratio, value=fmt_value, part=path_part
        )
        env.globals.update(asset=assets.url, plotly_url=plotly.url, query=query)
        self.env = env

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(**values), status_code=status)
