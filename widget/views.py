"""Thin HTTP entry points on Cloop's public host: widget.js, the launcher config, the chat
window and the demo website. None of them reads or sets a cookie or a session."""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.response import TemplateResponse
from django.utils.cache import patch_vary_headers
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from tenants import urls
from widget import demo, embed, services

STATIC = Path(__file__).resolve().parent / "static" / "widget"


@functools.cache
def _loader_source(mtime: float) -> tuple[bytes, bytes]:
    source = (STATIC / "widget.js").read_bytes()
    return source, gzip.compress(source, compresslevel=9, mtime=0)


def loader_source(*, gzipped: bool = False) -> bytes:
    """widget.js as served, plain or gzipped once (re-read when the file changes, so
    development needs no restart)."""
    return _loader_source((STATIC / "widget.js").stat().st_mtime)[1 if gzipped else 0]


@require_GET
def widget_js(request):
    # Compressed once, without the random padding Django's gzip_page adds against BREACH: the
    # file is the same public bytes for everyone (no secret, nothing reflected), and the
    # padding's up to 100 bytes would eat the loader's 2 KB budget.
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
    response = HttpResponse(
        loader_source(gzipped=gzipped), content_type="text/javascript; charset=utf-8"
    )
    if gzipped:
        response["Content-Encoding"] = "gzip"
    patch_vary_headers(response, ["Accept-Encoding"])
    # Short cache: fixes reach sites quickly; the file is tiny and served compressed.
    response["Cache-Control"] = "public, max-age=300"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
def launcher_config(request, site_id: str):
    """Colours, side and label of the launcher button. Public data, readable from any origin.

    The loader names its page (`?o=<origin>&p=<path>`): a page whose origin may not embed the
    site gets a 403 with a message the loader prints instead of showing a launcher whose
    window would be refused. Both outcomes feed the customer's embed check (widget/embed.py).
    """
    site = services.site_for_widget(site_id)
    if site is None:
        response = JsonResponse({"error": "unknown site"}, status=404)
    else:
        page = embed.embed_page(
            request.headers.get("Origin"), request.GET.get("o", ""), request.GET.get("p", "")
        )
        allowed = embed.embed_origin_allowed(page, services.embedding_origins(site))
        embed.embed_record(site, page, allowed=allowed)
        if allowed:
            response = JsonResponse(services.launcher_config(site))
            response["Cache-Control"] = "public, max-age=60"
        else:
            response = JsonResponse(
                {
                    "error": "origin_not_allowed",
                    "origin": page.origin or "",
                    "message": (
                        f"{page.origin or 'this page'} is not an allowed origin of site "
                        f"{site.site_id}; add it on the Install page of the site's admin."
                    ),
                },
                status=403,
            )
            # Not cached: once the customer adds the origin, the next page view shows the chat.
            response["Cache-Control"] = "no-store"
        # The answer depends on the page's origin (header or parameter).
        response["Vary"] = "Origin"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def frame_render(request, site, config: dict) -> TemplateResponse:
    """The chat window's page for a config of services.frame_config (headers: the caller)."""
    return TemplateResponse(
        request,
        "widget/frame.html",
        {
            "config": config,
            "s": config["strings"],
            "ws": config["settings"],
            "language": site.language,
        },
    )


@require_GET
@xframe_options_exempt  # framing is governed by CSP frame-ancestors (the site's origins)
def frame(request, site_id: str):
    """The chat window. `?o=` is the embedding page's origin, checked against the site's."""
    site = services.site_for_widget(site_id)
    if site is None:
        raise Http404("unknown site")
    parent = services.parent_origin_check(site, request.GET.get("o", ""))
    csp = services.frame_csp(site)
    if parent is None:
        response = HttpResponseBadRequest(
            "This chat window may only be shown on the site's own pages.",
            content_type="text/plain; charset=utf-8",
        )
    else:
        response = frame_render(request, site, services.frame_config(site, parent))
    response["Content-Security-Policy"] = csp
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


ROBOTS = {
    # Cloop's own host: the demo and the notices may be read, the machinery not.
    "public": "User-agent: *\nDisallow: /admin/\nDisallow: /widget/\nDisallow: /ws/\n",
    # A site's host serves only its admin and API.
    "site": "User-agent: *\nDisallow: /\n",
}


@require_GET
def robots_txt(request, kind: str = "public"):
    """robots.txt of Cloop's host and (kind="site") of every site's host: answered, not 404s."""
    response = HttpResponse(ROBOTS[kind], content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def favicon(request):
    """The launcher's speech bubble as /favicon.ico (browsers ask every host for it)."""
    response = HttpResponse((STATIC / "favicon.ico").read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def logo(request, site_id: str, digest: str):
    """The site's logo (a PNG Cloop re-encoded), by content hash: cached for a year."""
    site = services.site_for_widget(site_id)
    png = services.logo_png(site, digest) if site is not None else None
    if png is None:
        raise Http404("no such logo")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_GET
def demo_page(request, page: str = "home"):
    """The bundled Northwind Bikes website, with the widget snippet of the demo site."""
    entry = demo.PAGES.get(page)
    if entry is None:
        raise Http404("no such demo page")
    site_id = settings.CLOOP_DEMO_SITE_ID
    return TemplateResponse(
        request,
        f"demo/{page}.html",
        {
            "page": entry,
            "slug": page,
            "nav": demo.NAV,
            "all_pages": list(demo.PAGES.items()),
            "widget_src": f"{urls.public_base_url()}/widget.js",
            "widget_site": site_id,
        },
    )
