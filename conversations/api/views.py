"""The customer REST API (DRF) under /api/v1/ on the site's host.

Requests on `<site_id>.<base domain>` are already in the site's schema (tenant middleware), and
tokens and users live in that schema too, so a token of one site means nothing on another's
host. Views are thin: they call the same functions as the admin and the staff commands.
"""

from __future__ import annotations

import threading

from django.db import connection
from django.db.models import Count, Exists, OuterRef
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from drf_spectacular.views import SpectacularAPIView
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations.api.serializers import (
    ActSerializer,
    ConversationDetailSerializer,
    ConversationListSerializer,
    DataRequestSerializer,
    LeadSerializer,
    SiteSettingsSerializer,
)
from conversations.leads import exports
from conversations.models import Conversation, DataRequest, Lead, Message, SiteSettings
from conversations.privacy import privacy, requests
from conversations.privacy.access_log import Action, Actor, Channel, access_record
from tenants.api import SiteAPIView


def _conversations():
    return Conversation.objects.annotate(
        message_count=Count("messages", distinct=True),
        has_email=Exists(Lead.objects.filter(conversation=OuterRef("pk"))),
    ).order_by("-created_at", "-id")


@extend_schema(
    parameters=[
        OpenApiParameter("phase", str, description="exploring, learning or requesting_contact"),
        OpenApiParameter("q", str, description="text search in the messages"),
    ]
)
class ConversationList(SiteAPIView, generics.ListAPIView):
    serializer_class = ConversationListSerializer

    def get_queryset(self):
        qs = _conversations()
        phase = self.request.query_params.get("phase")
        if phase:
            qs = qs.filter(phase=phase)
        q = self.request.query_params.get("q")
        if q:
            qs = qs.filter(pk__in=Message.objects.filter(text__icontains=q).values("conversation"))
        return qs


class ConversationDetail(SiteAPIView, generics.RetrieveAPIView):
    serializer_class = ConversationDetailSerializer

    def get_queryset(self):
        return _conversations().prefetch_related("messages")

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        access_record(
            channel=Channel.API,
            action=Action.TRANSCRIPT_VIEW,
            user=request.user,
            object_type="conversation",
            object_id=response.data["id"],
        )
        return response


class LeadList(SiteAPIView, generics.ListAPIView):
    """Leads that may be exported (objected visitors and e-mails are left out)."""

    serializer_class = LeadSerializer

    def get_queryset(self):
        return exports.leads_exportable().select_related("conversation").order_by("-created_at")

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        data = response.data
        shown = data.get("results", []) if isinstance(data, dict) else data
        access_record(
            channel=Channel.API,
            action=Action.LEAD_LIST,
            user=request.user,
            object_type="lead",
            rows=len(shown),
        )
        return response


class LeadCSV(SiteAPIView, APIView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request):
        """The exportable leads as a streamed CSV file (formulas neutralised)."""
        download = exports.CsvDownload(request._request)
        exports.leads_export(connection.tenant, download, Actor(Channel.API, user=request.user))
        return download.response


class DataRequestList(SiteAPIView, generics.ListCreateAPIView):
    serializer_class = DataRequestSerializer

    def get_queryset(self):
        qs = DataRequest.objects.all()
        state = self.request.query_params.get("status")
        if state == "overdue":
            return qs.filter(requests.requests_overdue_q())
        if state:
            qs = qs.filter(status=state)
        return qs


class DataRequestDetail(SiteAPIView, generics.RetrieveAPIView):
    serializer_class = DataRequestSerializer
    queryset = DataRequest.objects.all()


class DataRequestAct(SiteAPIView, APIView):
    @extend_schema(
        request=ActSerializer,
        responses={
            200: inline_serializer(
                "DataRequestActResult",
                {
                    "request": DataRequestSerializer(),
                    "export": serializers.DictField(required=False),
                    "counts": serializers.DictField(required=False),
                    "objection": serializers.DictField(required=False),
                },
            ),
            400: OpenApiResponse(description="not possible; the reason is in `detail`"),
        },
    )
    def post(self, request, pk: int):
        """Carry out the request (access → export, erasure → erase, objection → flag),
        extend its deadline (`reason`, optional `until`) or reject it (`reason`)."""
        req = get_object_or_404(DataRequest, pk=pk)
        params = ActSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        action = params.validated_data["action"]
        who = request.user.get_username()
        try:
            if action == "extend":
                requests.request_extend(
                    req,
                    reason=params.validated_data["reason"],
                    until=params.validated_data["until"],
                )
                result = {}
            elif action == "reject":
                requests.request_reject(req, by=who, reason=params.validated_data["reason"])
                result = {}
            else:
                result = requests.request_act(req, by=who)
        except privacy.PrivacyError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        if "export" in result:
            access_record(
                channel=Channel.API,
                action=Action.SUBJECT_EXPORT,
                user=request.user,
                object_type="datarequest",
                object_id=req.pk,
            )
        req.refresh_from_db()
        return Response({"request": DataRequestSerializer(req).data, **result})


class SiteSettingsView(SiteAPIView, APIView):
    @extend_schema(responses=SiteSettingsSerializer)
    def get(self, request):
        return Response(SiteSettingsSerializer(SiteSettings.load()).data)

    @extend_schema(request=SiteSettingsSerializer, responses=SiteSettingsSerializer)
    def patch(self, request):
        serializer = SiteSettingsSerializer(SiteSettings.load(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(SiteSettingsSerializer(SiteSettings.load()).data)


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema of this API.

    drf-spectacular builds it by setting state on the views' shared schema objects, which is
    not thread-safe, and under ASGI every request runs on a thread of its own: two requests at
    once failed with "Schema generation REQUIRES a view instance" (found by bench/soak.py).
    """

    _lock = threading.Lock()

    def _get_schema_response(self, request):
        with self._lock:
            return super()._get_schema_response(request)
