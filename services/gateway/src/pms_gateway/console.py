"""The web console (``console/``, built by ``make console``), served at ``/``.

One origin serves the console and the API, so the console needs no CORS. The built files
come from ``settings.console_dir`` (default: the repository's ``console/dist``), looked
up at each request, so a rebuild is served without a restart:

- hashed assets (``/assets/index-3f9a.js``) are cached for a year (``immutable``): a new
  build has new names;
- ``index.html`` is ``no-store``, so a new build is picked up at the next load;
- any other path that names no file and looks like a page (no ``.`` in its last
  segment) is ``index.html`` too: the console routes on the client (``/patients``);
- every answer carries a strict Content-Security-Policy: this origin only, no inline
  script, no third-party origin.

The console is the last resort of the app: it answers only GET and HEAD requests that
no route (the proxy table, docs, health, metrics) took, and never a path below the API's
prefixes, which stay a 404 problem. Not built, ``/`` is a 404 problem that says so.
"""

from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from starlette.responses import FileResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from pms_gateway.settings import GatewaySettings
from pms_platform.errors import problem_response

# Where the API, its docs and the operators' endpoints live: never the console's, even
# where no route answers (``/api/nope`` is a 404 problem, not the console's page).
RESERVED_PREFIXES = ("/api", "/auth", "/docs", "/api-docs", "/health", "/metrics", "/openapi.json")
ASSETS_DIR = "assets"
INDEX = "index.html"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
PAGE_CACHE_CONTROL = "no-store"
OTHER_FILE_CACHE_CONTROL = "no-cache"
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
NOT_BUILT_DETAIL = (
    "The web console is not built: run `make console` (the API is at /api and /auth, "
    "its documentation at /docs)."
)


def default_console_dir() -> Path:
    """The repository's ``console/dist`` (this file is services/gateway/src/pms_gateway/)."""
    return Path(__file__).resolve().parents[4] / "console" / "dist"


def is_reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED_PREFIXES)


class ConsoleFiles:
    """The app's answer to a request that no route matched: the console's file or page
    for a GET or HEAD outside the reserved prefixes, else what ``fallback`` (the
    router's own 404) answers."""

    def __init__(self, directory: Path, fallback: ASGIApp) -> None:
        self._directory = directory
        self._fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or is_reserved(scope["path"])
        ):
            await self._fallback(scope, receive, send)
            return
        # The lookups touch the file system: off the event loop.
        response = await to_thread.run_sync(self.response_for, scope["path"])
        await response(scope, receive, send)

    def response_for(self, path: str) -> Response:
        root = self._directory.resolve()
        index = root / INDEX
        if not index.is_file():
            return _with_policy(problem_response(404, NOT_BUILT_DETAIL, slug="console-not-built"))
        relative = path.lstrip("/")
        found = _file_below(root, relative) if relative else index
        if found is None:
            last_segment = relative.rsplit("/", 1)[-1]
            if relative.startswith(ASSETS_DIR + "/") or "." in last_segment:
                return _with_policy(problem_response(404, "Not Found"))
            found = index  # a page of the console: it routes on the client
        if found == index:
            cache_control = PAGE_CACHE_CONTROL
        elif found.parent == root / ASSETS_DIR:
            cache_control = ASSET_CACHE_CONTROL
        else:
            cache_control = OTHER_FILE_CACHE_CONTROL
        return _with_policy(FileResponse(found, headers={"Cache-Control": cache_control}))


def _file_below(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names inside ``root``; None when there is none, or it would
    be outside (``..``, a link out)."""
    try:
        candidate = (root / relative).resolve()
    except (OSError, ValueError):  # a NUL byte, a loop of links
        return None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _with_policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def serve_console(app: FastAPI, settings: GatewaySettings) -> None:
    """Make the console ``app``'s answer where no route matched (Starlette calls the
    router's ``default`` then), so every route, and every 405 of a route, keeps its
    answer."""
    directory = settings.console_dir or default_console_dir()
    app.router.default = ConsoleFiles(directory, app.router.default)
