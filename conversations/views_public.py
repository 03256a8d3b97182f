"""Pages for people who are not the customer's users. Thin: the content comes from
`conversations.privacy.notice` (the notice and Cloop's policy, on Cloop's own host), the models (a
custom answer's page, on the site's host) and `conversations.privacy.delivery` (a subject's
one-time export link, on the site's host, already in the site's schema)."""

from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from conversations.models import CustomAnswer
from conversations.privacy.delivery import (
    ExportLinkInvalid,
    export_link_check,
    export_link_consume,
)
from conversations.privacy.notice import (
    NOTICE_TEMPLATE,
    cloop_policy_context,
    notice_context,
    notice_language,
    notice_publish,
)
from tenants.models import SITE_ID_RE, Site


@require_GET
def notice_page(request, site_id: str):
    """The site's privacy notice; public, cacheable for a few minutes. Serving it is its
    publication: the first time records the notice's date (unless the customer set one)."""
    if not SITE_ID_RE.match(site_id):
        raise Http404("no such site")
    site = Site.objects.filter(site_id=site_id, ready=True).first()
    if site is None:
        raise Http404("no such site")
    context = notice_context(site)
    if context["facts"]["published_on"]["source"] == "missing":
        notice_publish(site)
        context = notice_context(site)
    # The site's language, not the visitor's: the notice is the customer's published text.
    with translation.override(notice_language(context["language"])):
        response = render(request, NOTICE_TEMPLATE, context)
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def cloop_policy_page(request):
    """Cloop's own privacy policy, linked from every site's notice."""
    response = render(request, "privacy/cloop_policy.html", cloop_policy_context())
    response["Cache-Control"] = "public, max-age=3600"
    return response


MORE = {"en": "Read more", "fi": "Lue lisää"}


@require_GET
def custom_answer_page(request, pk: int):
    """A custom answer's own page on the site's host (the URL the chat cites for it). Public:
    it shows only what the customer wrote; an inactive or deleted answer is gone (404)."""
    answer = CustomAnswer.objects.filter(pk=pk, active=True).first()
    if answer is None:
        raise Http404("no such answer")
    site = request.tenant
    response = render(
        request,
        "answers/answer.html",
        {
            "answer": answer,
            "site_name": site.name,
            "site_url": site.url,
            "language": site.language,
            "more": MORE.get(site.language, MORE["en"]),
        },
    )
    # Not cached: a deactivated or deleted answer is gone at once, here as in the index.
    response["Cache-Control"] = "no-cache"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def subject_export_link(request, token: str):
    """The subject's one-time link (site's host, no login). GET only says what the link is
    (mail scanners that open links must not use it up); the POST of its button downloads the
    readable export and uses the link up."""
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
