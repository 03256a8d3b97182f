"""The crawler's part of the customer REST API: `GET/POST /api/v1/crawl-runs/` (the route is in
conversations.api.urls with the rest of the API).

Requests on the site's host are already in the site's schema. The view is thin: starting a
crawl is `crawler.tasks.crawl_request`, as in the admin and the staff command.
"""

from __future__ import annotations

from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crawler.models import CrawlRun
from crawler.runs import CrawlBusy
from crawler.tasks import crawl_request
from tenants.api import SiteAPIView


class CrawlRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    trigger = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    pages_fetched = serializers.IntegerField()
    pages_indexed = serializers.IntegerField()
    pages_skipped = serializers.IntegerField()
    errors = serializers.IntegerField()
    error = serializers.CharField()


class CrawlRunList(SiteAPIView, APIView):
    @extend_schema(responses=CrawlRunSerializer(many=True))
    def get(self, request):
        runs = CrawlRun.objects.order_by("-created_at")[:100]
        return Response(CrawlRunSerializer(runs, many=True).data)

    @extend_schema(
        request=None,
        responses={
            202: CrawlRunSerializer,
            409: OpenApiResponse(description="a crawl is already queued or running"),
        },
    )
    def post(self, request):
        """Start a crawl of the site in the background (Celery)."""
        try:
            run = crawl_request(connection.tenant, "api")
        except CrawlBusy as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(CrawlRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)
