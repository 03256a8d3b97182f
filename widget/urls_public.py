"""widget.js, the chat frame and the demo site, served from Cloop's own host."""

urlpatterns: list = []
