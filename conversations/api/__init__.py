"""The customer REST API (DRF) under /api/v1/ on the site's host: views, serializers, URLs."""
