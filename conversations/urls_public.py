"""Public pages served from Cloop's own host (the generated privacy notice)."""

urlpatterns: list = []
