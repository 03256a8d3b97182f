"""The chat socket's own database units (conversations.chat.chat has the conversation's): what a
`hello` loads, with the site's widget settings cached, and `forget`.

Preconditions (every function): sync code, any schema, run in the chat DB pool
(`conversations.chat.threads.chat_db`); each enters `tenant_context(site)` itself.
"""

from __future__ import annotations

import threading
import time
import uuid

from cachetools import TTLCache
from django_tenants.utils import tenant_context

from conversations.chat import chat
from conversations.models import SiteSettings
from conversations.privacy.privacy import subject_erase
from widget.services import widget_settings_as_dict

SETTINGS_CACHE_SECONDS = 10.0
SETTINGS_CACHE_SIZE = 1024
# schema -> (widget settings dict, daily quota): every hello needs them, and they change
# rarely; admin edits show within SETTINGS_CACHE_SECONDS. Bounded (LRU) and locked: it is
# filled from the chat DB pool's threads.
_settings_cache: TTLCache = TTLCache(
    SETTINGS_CACHE_SIZE, SETTINGS_CACHE_SECONDS, timer=time.monotonic
)
_settings_lock = threading.Lock()


def _site_settings(site) -> tuple[dict, int]:
    with _settings_lock:
        hit = _settings_cache.get(site.schema_name)
    if hit is not None:
        return hit
    data = widget_settings_as_dict(site)
    with tenant_context(site):
        quota = SiteSettings.load().daily_message_quota
    with _settings_lock:
        _settings_cache[site.schema_name] = (data, quota)
    return data, quota


def settings_cache_clear() -> None:
    with _settings_lock:
        _settings_cache.clear()


def hello_load(site, visitor_id: uuid.UUID) -> dict:
    """Resume data, widget settings and the site's quota in one DB unit (enters the schema)."""
    data = chat.chat_resume(site, visitor_id)
    data["settings"], data["quota"] = _site_settings(site)
    return data


def forget(site, visitor_id: uuid.UUID) -> dict:
    """Erase everything of this visitor on this site (the widget's "forget me")."""
    with tenant_context(site):
        return subject_erase(visitor_id=visitor_id)
