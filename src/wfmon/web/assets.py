"""Static files of the dashboard, and plotly.js from the installed `plotly` package.

Both are served under versioned URLs with a year-long immutable cache, gzip-compressed:

- our CSS and ES modules: `/ui/static/{build}/{path}`, where `build` is a hash of every
  file's content. They are read into memory once per app (about 60 KB), so a request is a
  dict lookup: no file-system path ever comes from the URL. A request for another build
  (a page rendered before a deploy) is still answered, but not cached for long.
- plotly.js: `/ui/vendor/plotly-{version}.min.js`, from `plotly/package_data/` of the
  wheel (4.8 MB, 1.4 MB gzipped). It is compressed on first use, in a thread, and kept;
  pages without charts never load it.

The routes are public: nothing here is secret, and the login page needs the CSS.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import importlib.util
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
STATIC_PREFIX = "/ui/static"
VENDOR_PREFIX = "/ui/vendor"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_GZIP_LEVEL = 6  # level 9 saves 1 % on plotly.js for twice the CPU
# plotly.js bundles maplibre, which at load time adds its CSS in a <style> element unless
# an element with the style's id exists already. The CSP refuses that <style> (and we
# draw no maps), so pages render empty placeholders with those ids: found in the file
# itself, so a plotly upgrade that changes them needs no edit here.
_INJECTED_STYLE = re.compile(
    rb'getElementById\("([0-9a-f]{16,64})"\)\)\{var \w+=document\.createElement\("style"\)'
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in folder.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.update(_walk(entry, f"{name}/"))
        elif entry.is_file() and Path(entry.name).suffix in TYPES:
            found[name] = entry
    return found


class StaticAssets:
    """The files of `wfmon/web/static`, in memory, by their path below it."""

    def __init__(self, folder: Traversable | None = None) -> None:
        root = folder or files("wfmon.web") / "static"
        digest = hashlib.sha256()
        self._assets: dict[str, Asset] = {}
        for name, entry in sorted(_walk(root).items()):
            body = entry.read_bytes()
            digest.update(name.encode() + b"\0" + body + b"\0")
            self._assets[name] = Asset(
                body=body,
                gzipped=gzip.compress(body, _GZIP_LEVEL, mtime=0),
                media_type=TYPES[Path(name).suffix],
                etag='"' + hashlib.sha256(body).hexdigest()[:16] + '"',
            )
        self.build = digest.hexdigest()[:12]

    def __contains__(self, path: str) -> bool:
        return path in self._assets

    def url(self, path: str) -> str:
        """The versioned URL of a file (KeyError for one that does not exist)."""
        if path not in self._assets:
            raise KeyError(f"no static file {path!r} in wfmon/web/static")
        return f"{STATIC_PREFIX}/{self.build}/{path}"

    def response(self, request: Request, build: str, path: str) -> Response:
        asset = self._assets.get(path)
        if asset is None:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {
            "Cache-Control": IMMUTABLE if build == self.build else REVALIDATE,
            "ETag": asset.etag,
            "Vary": "Accept-Encoding",
        }
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        if accepts_gzip(request):
            headers["Content-Encoding"] = "gzip"
            return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)


def _plotly_file() -> Path | None:
    spec = importlib.util.find_spec("plotly")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    return path if path.is_file() else None


class PlotlyBundle:
    """plotly.min.js as shipped in the `plotly` wheel; `url` is None when it is missing
    (pages then show their tables without charts)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else _plotly_file()
        try:
            self.version = version("plotly")
        except PackageNotFoundError:
            self.version = "0"
        self._gzipped: bytes | None = None
        self._style_ids: tuple[str, ...] | None = None
        self._lock = asyncio.Lock()

    @property
    def url(self) -> str | None:
        if self.path is None:
            return None
        return f"{VENDOR_PREFIX}/plotly-{self.version}.min.js"

    async def style_ids(self) -> tuple[str, ...]:
        """Ids of the <style> elements plotly.js would inject when it loads (read once)."""
        if self._style_ids is None:
            if self.path is None:
                self._style_ids = ()
            else:
                body = await asyncio.to_thread(self.path.read_bytes)
                found = dict.fromkeys(m.decode() for m in _INJECTED_STYLE.findall(body))
                self._style_ids = tuple(found)
        return self._style_ids

    async def gzipped(self) -> bytes:
        """Compressed once per process, off the event loop (about 150 ms)."""
        async with self._lock:
            if self._gzipped is None:
                assert self.path is not None
                path = self.path
                self._gzipped = await asyncio.to_thread(
                    lambda: gzip.compress(path.read_bytes(), _GZIP_LEVEL, mtime=0)
                )
            return self._gzipped

    async def response(self, request: Request, wanted: str) -> Response:
        if self.path is None or wanted != self.version:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
        media_type = TYPES[".js"]
        if accepts_gzip(request):
            headers["Content-Encoding"] = "gzip"
            return Response(await self.gzipped(), media_type=media_type, headers=headers)
        return FileResponse(self.path, media_type=media_type, headers=headers)
