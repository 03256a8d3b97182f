"""Models of this app live in each site's own schema (a TENANT_APP)."""
