"""WebSocket routes: the chat consumer at /ws/chat/<site_id>/ (protocol: docs/protocol.md)."""

from django.urls import re_path

from widget.consumers import ChatConsumer

websocket_urlpatterns: list = [
    re_path(r"^ws/chat/(?P<site_id>[a-z0-9][a-z0-9-]{1,38}[a-z0-9])/$", ChatConsumer.as_asgi()),
]
