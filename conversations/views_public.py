"""Views of Cloop's own host. Thin: the content comes from `conversations.notice`."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

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
