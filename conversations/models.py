"""Conversation data of one site. Every model here lives in each site's own schema (TENANT_APP).

Nothing here stores a visitor's IP address, user agent or any other network identifier: the
visitor is known only by the random UUID the widget keeps in localStorage.
"""

from __future__ import annotations

import datetime
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.scoping import SiteSingleton

# A data-subject request must be answered within one month (GDPR Art. 12(3)); Cloop uses 30 days.
DATA_REQUEST_DAYS = 30


class SiteSettings(SiteSingleton):
    """Per-site privacy and quota settings. A singleton: always use `SiteSettings.load()`."""

    company_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="The company named in the privacy notice; empty = the site's name.",
    )
    notice_published_on = models.DateField(
        null=True,
        blank=True,
        help_text="The notice's date; empty = the day it was first published (first served).",
    )
    # Set once, the first time the generated notice page is served (conversations.privacy.notice).
    notice_first_published_on = models.DateField(null=True, blank=True, editable=False)
    privacy_notice_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="The customer's own privacy notice, if it replaces Cloop's generated page.",
    )
    conversation_retention_days = models.PositiveIntegerField(
        default=270,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Conversations older than this are deleted by the nightly purge.",
    )
    lead_retention_days = models.PositiveIntegerField(
        default=730,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text="Leads older than this are deleted by the nightly purge.",
    )
    daily_message_quota = models.PositiveIntegerField(
        default=5000,
        validators=[MinValueValidator(0)],
        help_text="Visitor messages answered per day (UTC) on this site; 0 means none.",
    )
    synonyms = models.TextField(
        blank=True,
        max_length=20000,
        help_text=(
            "Words your visitors use for what your pages call something else: one group per "
            'line, separated by commas (e.g. "price, cost, fee"). The answerer treats the '
            "words of a group as the same word."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "site settings"
        verbose_name_plural = "site settings"

    def __str__(self):
        return "Site settings"


class Visitor(models.Model):
    """A widget user, known only by the random UUID kept in the browser's localStorage."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)
    objected = models.BooleanField(
        default=False, help_text="Objected to processing (Art. 21): new messages are not stored."
    )
    objected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self):
        return str(self.id)


class Phase(models.TextChoices):
    EXPLORING = "exploring", "Exploring"
    LEARNING = "learning", "Learning"
    REQUESTING_CONTACT = "requesting_contact", "Requesting contact"


class Conversation(models.Model):
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="conversations")
    start_page_url = models.URLField(
        max_length=1000, blank=True, help_text="Page the chat started on, without query/fragment."
    )
    phase = models.CharField(max_length=24, choices=Phase.choices, default=Phase.EXPLORING)
    phase_history = models.JSONField(
        default=list, blank=True, help_text='[{"phase": ..., "at": ISO time}]'
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["visitor", "-created_at"], name="conv_visitor_recent")]

    def __str__(self):
        return f"Conversation {self.pk}"


class Message(models.Model):
    class Role(models.TextChoices):
        VISITOR = "visitor", "Visitor"
        ASSISTANT = "assistant", "Assistant"

    class Feedback(models.TextChoices):
        UP = "up", "Helpful"
        DOWN = "down", "Not helpful"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    text = models.TextField(blank=True)
    sources = models.JSONField(default=list, blank=True, help_text='[{"url", "title"}]')
    model = models.CharField(max_length=200, blank=True)
    # Idempotency key sent by the widget with each visitor message (resends are not duplicated).
    # NULL (not "") when absent, so the partial unique constraint ignores it.
    client_message_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    # For an assistant message: the visitor message it answers.
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    refused = models.BooleanField(default=False)
    error = models.CharField(max_length=200, blank=True)
    # The visitor's thumbs up / down on an assistant message ("" = none). Nothing else is
    # kept about it: no time, no comment, no identifier beyond the conversation's own.
    feedback = models.CharField(
        max_length=4, choices=Feedback.choices, blank=True, default="", db_default=""
    )
    first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_message_id"],
                condition=Q(client_message_id__isnull=False),
                name="message_unique_client_id",
            ),
            # A question has at most one successful answer, however many sockets answered it
            # at once (failures are kept apart: a resend after one is answered again).
            models.UniqueConstraint(
                fields=["reply_to"],
                condition=Q(reply_to__isnull=False, error=""),
                name="message_one_answer",
            ),
        ]
        indexes = [models.Index(fields=["conversation", "created_at"], name="msg_conv_time")]

    def __str__(self):
        return f"{self.role}: {self.text[:40]}"


class Lead(models.Model):
    """An e-mail address a visitor chose to leave. Marketing use needs its own consent."""

    class Source(models.TextChoices):
        WIDGET = "widget", "Widget e-mail form"
        SUMMARY = "summary", "Summary request"
        ADMIN = "admin", "Entered by staff"

    visitor = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.CASCADE, related_name="leads"
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    email = models.EmailField(max_length=254, db_index=True)
    marketing_consent = models.BooleanField(default=False)
    consent_text = models.TextField(
        blank=True, help_text="Exact wording the visitor agreed to, as shown."
    )
    consent_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WIDGET)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.email


class DataRequest(models.Model):
    """A data-subject request (access, erasure, objection), due within 30 days of receipt."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access"
        ERASURE = "erasure", "Erasure"
        OBJECTION = "objection", "Objection"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    subject_email = models.EmailField(max_length=254, blank=True, db_index=True)
    subject_visitor_id = models.UUIDField(null=True, blank=True, db_index=True)
    received_on = models.DateField(default=datetime.date.today)
    due_on = models.DateField(blank=True, help_text="received_on + 30 days (set on save).")
    extended_until = models.DateField(null=True, blank=True)
    extension_reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    handled_by = models.CharField(max_length=200, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # "Send the export to the subject" (conversations/privacy/delivery.py): when, by whom and
    # how it was sent; the one-time link is known here only by the hash of its nonce (cleared
    # when used), and when it expires or was used.
    export_sent_at = models.DateTimeField(null=True, blank=True)
    export_sent_by = models.CharField(max_length=200, blank=True)
    export_sent_how = models.CharField(max_length=40, blank=True)
    export_link_hash = models.CharField(max_length=64, blank=True)
    export_link_expires_at = models.DateTimeField(null=True, blank=True)
    export_link_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["status", "due_on"], name="datareq_status_due")]

    def __str__(self):
        return f"{self.get_kind_display()} request {self.pk}"

    def save(self, *args, **kwargs):
        # The deadline always follows the receipt date; an extension is recorded separately.
        if isinstance(self.received_on, datetime.datetime):
            self.received_on = self.received_on.date()
        self.due_on = self.received_on + datetime.timedelta(days=DATA_REQUEST_DAYS)
        super().save(*args, **kwargs)

    @property
    def deadline(self) -> datetime.date:
        return (
            self.extended_until
            or self.due_on
            or (self.received_on + datetime.timedelta(days=DATA_REQUEST_DAYS))
        )

    @property
    def days_left(self) -> int:
        """Days until the (possibly extended) deadline; negative when overdue."""
        return (self.deadline - timezone.localdate()).days


class ErasureAudit(models.Model):
    """Proof that an erasure happened, without keeping the erased identifier itself."""

    request = models.ForeignKey(
        DataRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="audits"
    )
    subject_hash = models.CharField(
        max_length=64, db_index=True, help_text="Keyed HMAC-SHA256 of the identifier."
    )
    counts = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"Erasure {self.subject_hash[:12]} at {self.at:%Y-%m-%d}"


class AccessLog(models.Model):
    """Who looked at or exported personal data, when, and which object (GDPR Art. 32).

    Holds object ids and, for a subject named without a data request, only the keyed HMAC of
    the identifier: never message text, an e-mail address or a visitor id. Written by
    `conversations.privacy.access_log.access_record`; purged after ACCESS_LOG_RETENTION_DAYS.
    """

    class Channel(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "REST API"
        COMMAND = "command", "Staff command"
        SUBJECT_LINK = "subject_link", "Subject's one-time link"

    class Action(models.TextChoices):
        TRANSCRIPT_VIEW = "transcript_view", "Viewed a transcript"
        LEAD_VIEW = "lead_view", "Viewed a lead"
        LEAD_LIST = "lead_list", "Listed leads"
        LEAD_EXPORT = "lead_export", "Exported leads (CSV)"
        SUBJECT_EXPORT = "subject_export", "Exported a data subject's data"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user_id = models.IntegerField(null=True, blank=True)
    username = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)
    subject_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log entries"

    def __str__(self):
        return f"{self.username or '?'} {self.action} {self.object_type} {self.object_id}"


class CustomAnswer(models.Model):
    """An answer the customer wrote for a question visitors ask (no visitor data in it).

    Indexed beside the crawled pages as a page of its own (crawler.Page, source "answer"):
    searched and ranked the same way, cited at its own URL on the site's Cloop host (or its
    `link`), surviving every re-crawl. `conversations.chat.custom_answers` keeps the index in step
    with every save and delete.
    """

    question = models.CharField(
        max_length=500, help_text="The question as visitors ask it (its words are matched)."
    )
    answer = models.TextField(max_length=5000, help_text="The answer, as plain text.")
    link = models.URLField(
        max_length=1000,
        blank=True,
        help_text="Optional: a page of your website to cite instead of this answer's own page.",
    )
    active = models.BooleanField(
        default=True, help_text="Inactive answers are taken out of the index at once."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["question", "id"]

    def __str__(self):
        return self.question
