"""Two guards Streamlit 1.67 lacks, and ``python -m nkapp.serve`` to run the app with them from the first request.

- A link whose query string Streamlit drops whole (over 1,000 parameters or 512 KiB) would show the default view
  with no word while the address bar still shows the filter: the dropped string is replaced by one marker
  parameter, ``LINK_DROPPED_KEY=<parameters>``, which the app turns into a visible notice.
- A nested unknown path (``/studies/extra/deeper``) gets the app's page, whose relative script addresses then
  point under ``/studies/extra/`` (HTML comes back) and whose server connection is looked for there (404): a
  blank page. Such a path is redirected to the app's root with ``NOT_FOUND_KEY=<path>`` (and the link's own
  parameters), where the app says "page not found"; static files under extra segments are served as well.

``install()`` is idempotent; ``dashboard.py`` calls it too, so a plain ``streamlit run dashboard.py`` has the link
guard from its first script run on (the static one needs ``python -m nkapp.serve run dashboard.py ...``).

``main()`` also caps glibc's malloc arenas (``MALLOC_ARENA_MAX=2``, unless the operator set it): glibc reads the
cap only at process start, so the launcher restarts itself once with it (decisions.md, "Memory bounded in bytes").
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

LINK_DROPPED_KEY = "_nk_link_dropped"
NOT_FOUND_KEY = "_nk_not_found"
_INSTALLED: set[str] = set()
ARENA_SETTING = "MALLOC_ARENA_MAX"
ARENA_LIMIT = "2"  # one arena per core: every session thread had its own, and each kept freed memory


def guard_query_string(sanitize: Callable[[str], str]) -> Callable[[str], str]:
    """Streamlit's sanitizer, with a dropped query string replaced by the marker parameter (its size)."""

    def sanitize_with_notice(query_string: str) -> str:
        kept = sanitize(query_string)
        if query_string and not kept:
            return f"{LINK_DROPPED_KEY}={query_string.count('&') + 1}"
        return kept

    return sanitize_with_notice


def static_candidates(path: str) -> list[str]:
    """``path`` without 1, 2, ... of its leading segments (``a/b/static/x.js`` -> ``b/static/x.js``, ...)."""
    parts = path.replace("\\", "/").strip("/").split("/")
    return ["/".join(parts[i:]) for i in range(1, len(parts))]


def not_found_redirect(path: str, root: str, query_string: str) -> str | None:
    """Where a request for ``path`` (no file of that name) goes: the root with the path as NOT_FOUND_KEY when the
    path is nested (two segments or more, never Streamlit's own ``_stcore``), else None (Streamlit serves it)."""
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    if len(parts) < 2 or "_stcore" in parts:
        return None
    query = urlencode({NOT_FOUND_KEY: "/".join(parts)[:200]})
    return f"{root.rstrip('/')}/?{query}" + (f"&{query_string}" if query_string else "")


def _install_link_guard() -> None:
    from streamlit.runtime import app_session

    if "link" in _INSTALLED:
        return
    app_session.sanitize_query_string = guard_query_string(app_session.sanitize_query_string)
    _INSTALLED.add("link")


def _install_static_guard() -> None:
    from streamlit.web.server.starlette import starlette_static_routes as routes

    if "static" in _INSTALLED:
        return
    create = routes.create_streamlit_static_handler

    def create_handler(directory: str, base_url: str | None) -> Any:
        handler = create(directory, base_url)
        get_response = handler.get_response

        async def get_response_nested(path: str, scope: Any) -> Any:
            if not os.path.isfile(os.path.join(directory, path)):
                for candidate in static_candidates(path):
                    if os.path.isfile(os.path.join(directory, candidate)):
                        return await get_response(candidate, scope)
                query = scope.get("query_string", b"").decode("latin-1")
                target = not_found_redirect(path, scope.get("root_path", ""), query)
                if target and scope.get("method") in ("GET", "HEAD"):
                    from starlette.responses import RedirectResponse

                    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-cache"})
            return await get_response(path, scope)

        handler.get_response = get_response_nested
        return handler

    routes.create_streamlit_static_handler = create_handler
    _INSTALLED.add("static")


def install() -> None:
    """Both guards (each only once; a Streamlit without the patched functions is left as it is)."""
    for guard in (_install_link_guard, _install_static_guard):
        try:
            guard()
        except (ImportError, AttributeError):  # another Streamlit version: nothing to guard
            pass


def allocator_environment(env: Mapping[str, str]) -> dict[str, str] | None:
    """The environment to restart the server with, glibc's arena cap added; None when the operator chose one."""
    if ARENA_SETTING in env:
        return None
    return {**env, ARENA_SETTING: ARENA_LIMIT}


def main() -> None:
    """``python -m nkapp.serve run dashboard.py [options]``: Streamlit's own command line, guards installed."""
    restart_env = allocator_environment(os.environ)
    if restart_env is not None:  # same process id: supervisors and benchmarks keep following it
        os.execve(sys.executable, [sys.executable, "-m", "nkapp.serve", *sys.argv[1:]], restart_env)
    install()
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
