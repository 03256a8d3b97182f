"""The live preview of the chat window in the customer's admin (the site's own host).

The real window (same template, script and stylesheet) in preview mode: no socket, a sample
exchange, and unsaved settings taken from the admin page by postMessage (same origin only).
Preconditions: a request on the site's host, so the connection is in the site's schema.
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.db import connection
from django.views.decorators.http import require_GET

from widget import services
from widget.strings import strings_for
from widget.views import frame_render


def preview_config(site, parent_origin: str) -> dict:
    """frame_config plus a sample question and a cited answer linking to the site itself."""
    config = services.frame_config(site, parent_origin)
    text = strings_for(site.language)
    config["strings"]["title_tpl"] = text["title"]  # the preview renames the bot live
    url = site.url or f"{parent_origin}/"
    config["ws_url"] = ""
    config["preview"] = {
        "question": text["preview_question"],
        "answer": text["preview_answer"].replace("(#)", f"({url})"),
        "sources": [{"url": url, "title": config["settings"]["bot_name"]}],
    }
    return config


def preview_csp() -> str:
    """Framed only by the admin page (same origin); images: the logo on Cloop's origin, or
    the not yet saved upload the admin page hands over as a blob: URL."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' blob: {services.cloop_origin()}",
            "frame-ancestors 'self'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


@require_GET
@staff_member_required
def preview(request):
    site = connection.tenant
    origin = f"{request.scheme}://{request.get_host()}"
    config = preview_config(site, origin)
    response = frame_render(request, site, config)
    response["Content-Security-Policy"] = preview_csp()
    response["Cache-Control"] = "no-store"
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response
