"""WebSocket routes. The chat consumer is added by the widget app."""

websocket_urlpatterns: list = []
