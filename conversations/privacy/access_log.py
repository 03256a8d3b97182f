"""Audit of the customer's access to personal data (GDPR Art. 32, Art. 5(2) accountability).

Every view of a transcript or a lead, every lead list or CSV export and every subject export,
from the admin, the REST API or a staff command, leaves one `AccessLog` row: who, when, which
action, which object (by id) and how many rows. The row never holds message text, an e-mail
address or a visitor id: a subject named without a data request is recorded as the same keyed
HMAC the erasure audit uses, so an erasure leaves nothing identifying behind here either.

Entries are kept ACCESS_LOG_RETENTION_DAYS (one year: long enough to answer "who saw this
transcript?" for a complaint or a breach investigation within the usual limitation periods,
short enough not to become a second record of visitors' activity) and are deleted by the
nightly retention purge.

Preconditions: sync code inside the site's schema (the admin and API requests are on the site's
host; staff commands enter `tenant_context` first).
"""

from __future__ import annotations

import datetime
import getpass
from dataclasses import dataclass

from django.utils import timezone

from conversations.models import AccessLog
from conversations.privacy.subject import subject_hash as keyed_hash

ACCESS_LOG_RETENTION_DAYS = 365

Action = AccessLog.Action
Channel = AccessLog.Channel


@dataclass(frozen=True)
class Actor:
    """Who accesses, as an entry records it: a request's `user` (admin, API) or a staff
    command's `username` (`access_command_user()`), and the channel."""

    channel: str
    user: object = None
    username: str = ""


def access_who(user) -> tuple[int | None, str]:
    """(user id, username) of a request's user; empty for an anonymous one."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    return user.pk, user.get_username()


def access_command_user() -> str:
    """Who ran a staff command: the operating-system account (staff have no site user)."""
    try:
        return f"staff command ({getpass.getuser()})"
    except Exception:  # noqa: BLE001 - no login name in some containers; still record the access
        return "staff command"


def access_record(
    *,
    channel: str,
    action: str,
    user=None,
    username: str = "",
    object_type: str = "",
    object_id="",
    rows: int | None = None,
    subject: tuple[str, object] | None = None,
) -> AccessLog:
    """Record one access. `user` is a request's user (or pass `username` for a command).

    `subject` = (email, visitor_id) when a subject is named directly (no data request): only
    its keyed hash is stored.
    """
    user_id, name = access_who(user)
    subject_hash = ""
    if subject is not None:
        email, visitor_id = subject
        subject_hash = keyed_hash((email or "").strip().lower() or str(visitor_id or ""))
    return AccessLog.objects.create(
        channel=channel,
        action=action,
        user_id=user_id,
        username=(name or username)[:200],
        object_type=object_type,
        object_id="" if object_id in (None, "") else str(object_id),
        rows=rows,
        subject_hash=subject_hash,
    )


def access_log_expired(now: datetime.datetime | None = None):
    cutoff = (now or timezone.now()) - datetime.timedelta(days=ACCESS_LOG_RETENTION_DAYS)
    return AccessLog.objects.filter(at__lt=cutoff)


def access_log_purge(now: datetime.datetime | None = None, *, dry_run: bool = False) -> int:
    """Delete (or count, if dry_run) entries older than ACCESS_LOG_RETENTION_DAYS."""
    expired = access_log_expired(now)
    return expired.count() if dry_run else expired.delete()[0]
