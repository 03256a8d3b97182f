"""Pages for people who are not the customer's users. Thin: the content comes from
`conversations.notice` (the notice, on Cloop's own host) and `conversations.privacy_delivery`
(a subject's one-time export link, on the site's host, already in the site's schema)."""

from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from conversations.notice import notice_context, notice_template
from tenants.models import SITE_ID_RE, Site


@require_GET
def notice_page(request, site_id: str):
    """The site's privacy notice; public, cacheable for a few minutes."""
    if not SITE_ID_RE.match(site_id):
        raise Http404("no such site")
    site = Site.objects.filter(site_id=site_id, ready=True).first()
    if site is None:
        raise Http404("no such site")
    context = notice_context(site)
    response = render(request, notice_template(context["language"]), context)
    response["Cache-Control"] = "public, max-age=300"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def subject_export_link(request, token: str):
    """The subject's one-time link (site's host, no login). GET only says what the link is
    (mail scanners that open links must not use it up); the POST of its button downloads the
    readable export and uses the link up."""
    from conversations.privacy_delivery import (
        ExportLinkInvalid,
        export_link_check,
        export_link_consume,
    )

    site = getattr(connection, "tenant", None)
    context = {"site": site}
    try:
        if request.method == "POST":
            html, request_id = export_link_consume(token)
            response = HttpResponse(html, content_type="text/html; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="your-data-{site.site_id}-{request_id}.html"'
            )
            response["Cache-Control"] = "no-store"
            response["Referrer-Policy"] = "no-referrer"
            return response
        req = export_link_check(token)
        context["expires"] = req.export_link_expires_at
    except ExportLinkInvalid as exc:
        context["invalid"] = exc.reason
    response = render(
        request, "privacy/export_link.html", context, status=410 if "invalid" in context else 200
    )
    response["Referrer-Policy"] = "no-referrer"
    return response
