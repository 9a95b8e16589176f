"""Page or fragment: the one place that decides (STYLE.md, htmx section)."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlsplit

from flask import Flask, Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block, render_blocks

STOP_POLLING = 286  # htmx stops an `every Ns` poll on this status


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_fragment() -> bool:
    """A fragment iff htmx asked and the request is not a boosted navigation."""
    return is_htmx() and request.headers.get("HX-Boosted") != "true"


def render(
    template: str,
    block: str | list[str] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """Render the whole page, or only `block` (or blocks) for an htmx fragment request."""
    if block is not None and is_fragment():
        if isinstance(block, list):
            body = render_blocks(template, block, **context)
        else:
            body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    if headers:
        response.headers.update(headers)
    return response


def redirect_to(url: str, status: int = 303) -> Response:
    """Redirect; for htmx requests, tell htmx to navigate (a 30x would be followed in place)."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return cast(Response, redirect(url, code=status))


def init_app(app: Flask) -> None:
    @app.after_request
    def _vary(response: Response) -> Response:
        response.vary.add("HX-Request")
        return response


def posted_from(home: str) -> str:
    """The page of ours a form was posted from (htmx says it in HX-Current-URL, else
    the Referer), as a path; `home` when it is another site's or unknown."""
    came_from = urlsplit(
        request.headers.get("HX-Current-URL") or request.referrer or ""
    )
    if came_from.netloc == request.host and came_from.path.startswith("/"):
        return came_from.path + (f"?{came_from.query}" if came_from.query else "")
    return home
