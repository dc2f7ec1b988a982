"""Static files and plotly.js: versioned URLs, in memory, gzip, caching."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest

from wfmon.web.assets import PlotlyBundle, StaticAssets


def test_every_static_file_has_a_versioned_url() -> None:
    assets = StaticAssets()
    url = assets.url("js/app.js")
    assert url == f"/ui/static/{assets.build}/js/app.js"
    assert "css/base.css" in assets
    assert "../pages.py" not in assets
    with pytest.raises(KeyError):
        assets.url("js/missing.js")


def test_the_build_id_changes_with_any_file(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "a.css").write_text("a {}")
    first = StaticAssets(tmp_path).build
    (tmp_path / "css" / "a.css").write_text("a { color: red }")
    assert StaticAssets(tmp_path).build != first


def test_plotly_comes_from_the_installed_wheel_and_its_injected_styles_are_found() -> None:
    bundle = PlotlyBundle()
    assert bundle.path is not None
    assert bundle.path.name == "plotly.min.js"
    assert bundle.url == f"/ui/vendor/plotly-{bundle.version}.min.js"
    ids = asyncio.run(bundle.style_ids())
    assert all(len(i) >= 16 for i in ids)


def test_a_missing_plotly_means_no_charts(tmp_path: Path) -> None:
    bundle = PlotlyBundle(tmp_path / "nope.js")
    bundle.path = None
    assert bundle.url is None
    assert asyncio.run(bundle.style_ids()) == ()


def test_plotly_is_compressed_once(tmp_path: Path) -> None:
    source = tmp_path / "plotly.min.js"
    source.write_text("var Plotly = {};" * 100)

    async def twice() -> tuple[bytes, bytes]:
        bundle = PlotlyBundle(source)
        return await bundle.gzipped(), await bundle.gzipped()

    first, second = asyncio.run(twice())
    assert first is second
    assert gzip.decompress(first) == source.read_bytes()
