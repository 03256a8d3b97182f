from django_tenants.middleware.main import TenantMainMiddleware


class SiteTenantMiddleware(TenantMainMiddleware):
    """`<site_id>.<base domain>` serves that site's schema; every other host serves public.

    Sites whose schema is not ready yet (being created) are treated as unknown hosts.
    """

    def get_tenant(self, domain_model, hostname):
        tenant = super().get_tenant(domain_model, hostname)
        if not tenant.ready:
            raise domain_model.DoesNotExist
        return tenant
