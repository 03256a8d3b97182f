"""The customer REST API under /api/v1/ on the site's host."""

urlpatterns: list = []
