"""Right of access (GDPR Art. 15): everything held about one subject, as JSON and as a page.

Preconditions (every public function): sync code, the connection is inside the site's schema
(`tenant_context(site)`); read-only, so no transaction is needed.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from conversations.models import Conversation, Message, SiteSettings, Visitor
from conversations.privacy.subject import subject_resolve


def _iso(value):
    return value.isoformat() if value else None


def subject_information(site_settings: SiteSettings | None = None) -> dict:
    """The Art. 15(1)(a)-(h) information that accompanies every copy of a subject's data."""
    s = site_settings or SiteSettings.load()
    tenant = getattr(connection, "tenant", None)
    controller = s.company_name or getattr(tenant, "name", "") or "[Customer Name]"
    contact = getattr(tenant, "contact_email", "") or "[Customer Contact Email]"
    return {
        "controller": controller,
        "contact": contact,
        "purposes": [
            "Answering your questions in the chat widget from the content published on our "
            "website, with AI.",
            "Letting us review conversations to improve our content.",
            "Following up on your inquiry or sending a conversation summary, if you gave your "
            "e-mail address. Marketing only with your separate consent.",
        ],
        "categories": [
            "Your chat messages and the answers given, with their sources",
            "A random visitor id stored in your browser (localStorage)",
            "The page you started chatting on",
            "The conversation phase (exploring, learning, requesting contact)",
            "Your e-mail address and consents, only if you gave them",
        ],
        "recipients": [
            f"{controller} (the website's team)",
            "Cloop, operated by ROFFI Oy (Finland), as processor; data is stored and "
            "processed in the European Union (Finland)",
        ],
        "retention": (
            f"Conversations are deleted {s.conversation_retention_days} days after their last "
            f"message; e-mail addresses (leads) {s.lead_retention_days} days after they were "
            "given."
        ),
        "rights": [
            "Access the data collected about you (Art. 15)",
            "Rectification (Art. 16)",
            "Delete your conversation and any personal data (Art. 17)",
            "Restriction of processing (Art. 18)",
            "Object to processing (Art. 21)",
        ],
        "complaint": (
            "You may lodge a complaint with a supervisory authority, for example the "
            "Data Protection Ombudsman of Finland (tietosuoja.fi) or the authority of your "
            "home country."
        ),
        "source": "Collected from you through the chat widget on our website.",
        "automated_decisions": (
            "Answers are generated automatically by an AI language model from our published "
            "content. No decisions with legal or similarly significant effects are made about "
            "you."
        ),
        "ip_address": "Not stored by the widget.",
    }


def subject_export(email: str | None = None, visitor_id=None, *, widen: bool = False) -> dict:
    """Everything held about the subject on this site, as a JSON-serialisable dict.

    Holds nothing about anyone else: only the subject's visitors, their conversations (whose
    messages are the subject's chat with the bot), their leads and the requests about them.
    """
    subject = subject_resolve(email, visitor_id, widen=widen)
    site_settings = SiteSettings.load()
    tenant = getattr(connection, "tenant", None)
    visitors = []
    for v in Visitor.objects.filter(id__in=subject.visitor_ids).order_by("first_seen"):
        conversations = []
        for c in Conversation.objects.filter(visitor=v).order_by("created_at", "id"):
            messages = [
                {
                    "id": m.id,
                    "role": m.role,
                    "text": m.text,
                    "sources": m.sources,
                    "refused": m.refused,
                    "feedback": m.feedback or None,
                    "created_at": _iso(m.created_at),
                }
                for m in Message.objects.filter(conversation=c).order_by("created_at", "id")
            ]
            conversations.append(
                {
                    "id": c.id,
                    "start_page_url": c.start_page_url,
                    "phase": c.phase,
                    "phase_history": c.phase_history,
                    "created_at": _iso(c.created_at),
                    "updated_at": _iso(c.updated_at),
                    "messages": messages,
                }
            )
        visitors.append(
            {
                "visitor_id": str(v.id),
                "first_seen": _iso(v.first_seen),
                "last_seen": _iso(v.last_seen),
                "objected": v.objected,
                "objected_at": _iso(v.objected_at),
                "conversations": conversations,
            }
        )
    leads = [
        {
            "id": lead.id,
            "email": lead.email,
            "visitor_id": str(lead.visitor_id) if lead.visitor_id else None,
            "conversation_id": lead.conversation_id,
            "marketing_consent": lead.marketing_consent,
            "consent_text": lead.consent_text,
            "consent_at": _iso(lead.consent_at),
            "source": lead.source,
            "created_at": _iso(lead.created_at),
        }
        for lead in subject.leads().order_by("created_at", "id")
    ]
    requests = [
        {
            "id": r.id,
            "kind": r.kind,
            "received_on": _iso(r.received_on),
            "due_on": _iso(r.due_on),
            "extended_until": _iso(r.extended_until),
            "status": r.status,
            "handled_at": _iso(r.handled_at),
        }
        for r in subject.requests().order_by("received_on", "id")
    ]
    return {
        "generated_at": _iso(timezone.now()),
        "site": {
            "site_id": getattr(tenant, "site_id", ""),
            "name": getattr(tenant, "name", ""),
            "url": getattr(tenant, "url", ""),
        },
        "subject": {
            "email": subject.given_email or None,
            "visitor_id": str(subject.given_visitor_id) if subject.given_visitor_id else None,
            "emails": sorted(subject.emails),
            "visitor_ids": sorted(str(v) for v in subject.visitor_ids),
        },
        "visitors": visitors,
        "leads": leads,
        "data_requests": requests,
        "information": subject_information(site_settings),
    }


def subject_export_html(data: dict) -> str:
    """The readable page of an export (same content as the JSON)."""
    from django.template.loader import render_to_string

    return render_to_string("privacy/subject_export.html", {"data": data})
