import logging

import psycopg
from django import db
from django.http import HttpResponse
from django_tenants.middleware.main import TenantMainMiddleware

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait before retrying while the database cannot be reached.
RETRY_AFTER_SECONDS = 5


def db_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "the database cannot be reached right now" (server down,
    connections refused, the pool's wait for a connection timed out), as opposed to a bug
    or bad data."""
    return isinstance(exc, db.OperationalError | db.InterfaceError | psycopg.OperationalError)


class SiteTenantMiddleware(TenantMainMiddleware):
    """`<site_id>.<base domain>` serves that site's schema; every other host serves public.

    Sites whose schema is not ready yet (being created) are treated as unknown hosts. The
    host's look-up is every request's first query: when the database cannot be reached it
    answers 503 with Retry-After (a client, a balancer or the widget's loader may retry) and
    logs one line, instead of a 500 with a traceback per request during an outage.
    """

    def get_tenant(self, domain_model, hostname):
        tenant = super().get_tenant(domain_model, hostname)
        if not tenant.ready:
            raise domain_model.DoesNotExist
        return tenant

    def process_request(self, request):
        try:
            return super().process_request(request)
        except Exception as exc:
            if not db_unavailable(exc):
                raise
            logger.warning("database unavailable (%s): answered 503", type(exc).__name__)
            response = HttpResponse(
                "Temporarily unavailable. Try again in a few seconds.\n",
                status=503,
                content_type="text/plain; charset=utf-8",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            # The line above is the one log line: Django's "Service Unavailable" for every
            # 5xx (django.utils.log.log_response) would be a second.
            response._has_been_logged = True
            return response
