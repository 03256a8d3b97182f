"""Serializers of the customer REST API (conversations.api.views).

Preconditions: used by the API views, so inside the site's schema (a request on its host);
`SiteSettingsSerializer` also reads and updates the site's own row (`connection.tenant`).
"""

from __future__ import annotations

from django.db import connection
from rest_framework import serializers

from conversations.models import Conversation, DataRequest, Lead, Message, SiteSettings
from conversations.privacy import privacy, requests
from conversations.privacy.notice import notice_missing, notice_url
from tenants.services import SiteError, origins_normalise, site_update


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ("id", "role", "text", "sources", "refused", "feedback", "created_at")


class ConversationListSerializer(serializers.ModelSerializer):
    message_count = serializers.IntegerField(read_only=True)
    has_email = serializers.BooleanField(read_only=True)

    class Meta:
        model = Conversation
        fields = (
            "id",
            "visitor",
            "start_page_url",
            "phase",
            "message_count",
            "has_email",
            "created_at",
            "updated_at",
        )


class ConversationDetailSerializer(ConversationListSerializer):
    messages = MessageSerializer(many=True, read_only=True)

    class Meta(ConversationListSerializer.Meta):
        fields = (*ConversationListSerializer.Meta.fields, "phase_history", "messages")


class LeadSerializer(serializers.ModelSerializer):
    start_page_url = serializers.CharField(source="conversation.start_page_url", default="")

    class Meta:
        model = Lead
        fields = (
            "id",
            "email",
            "marketing_consent",
            "consent_text",
            "consent_at",
            "source",
            "created_at",
            "conversation",
            "start_page_url",
            "visitor",
        )


class DataRequestSerializer(serializers.ModelSerializer):
    deadline = serializers.DateField(read_only=True)
    days_left = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = DataRequest
        fields = (
            "id",
            "kind",
            "subject_email",
            "subject_visitor_id",
            "received_on",
            "due_on",
            "extended_until",
            "extension_reason",
            "deadline",
            "days_left",
            "overdue",
            "status",
            "handled_by",
            "handled_at",
            "notes",
        )
        read_only_fields = (
            "due_on",
            "extended_until",
            "extension_reason",
            "status",
            "handled_by",
            "handled_at",
        )

    def get_days_left(self, obj) -> int:
        return requests.request_days_left(obj)

    def get_overdue(self, obj) -> bool:
        return requests.request_is_overdue(obj)

    def create(self, validated_data):
        try:
            return requests.request_create(
                validated_data["kind"],
                email=validated_data.get("subject_email") or "",
                visitor_id=validated_data.get("subject_visitor_id"),
                received_on=validated_data.get("received_on"),
                notes=validated_data.get("notes") or "",
            )
        except privacy.PrivacyError as exc:
            raise serializers.ValidationError({"subject": str(exc)}) from None


class ActSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["carry_out", "extend", "reject"], default="carry_out")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    until = serializers.DateField(required=False, allow_null=True, default=None)


class SiteSettingsSerializer(serializers.ModelSerializer):
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    allowed_origins = serializers.ListField(child=serializers.CharField(), required=False)
    notice_url = serializers.SerializerMethodField()
    notice_missing = serializers.SerializerMethodField()

    class Meta:
        model = SiteSettings
        fields = (
            "company_name",
            "contact_email",
            "notice_published_on",
            "privacy_notice_url",
            "notice_url",
            "notice_missing",
            "allowed_origins",
            "conversation_retention_days",
            "lead_retention_days",
            "daily_message_quota",
        )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        site = connection.tenant
        data["contact_email"] = site.contact_email
        data["allowed_origins"] = list(site.allowed_origins or [])
        return data

    def get_notice_url(self, obj) -> str:
        return notice_url(connection.tenant.site_id)

    def get_notice_missing(self, obj) -> list[str]:
        return [m["placeholder"] for m in notice_missing(connection.tenant)]

    def validate_allowed_origins(self, value):
        try:
            return origins_normalise(value)
        except SiteError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def update(self, instance, validated_data):
        contact_email = validated_data.pop("contact_email", None)
        allowed_origins = validated_data.pop("allowed_origins", None)
        instance = super().update(instance, validated_data)
        site_update(connection.tenant, contact_email=contact_email, allowed_origins=allowed_origins)
        return instance
