"""Login throttling (django-axes) keyed on the account only.

Cloop never stores a visitor's IP address and treats the customers' users the same way:
axes is told the client has no address (`no_ip_address`, AXES_CLIENT_IP_CALLABLE), and this
handler blanks the browser's user agent before anything is written, so an attempt row holds
the username, the path, the time and the failure count. Lockouts are per username
(AXES_LOCKOUT_PARAMETERS = ["username"]); see cloop/settings.py.
"""

from axes.handlers.database import AxesDatabaseHandler


def no_ip_address(request) -> None:
    """AXES_CLIENT_IP_CALLABLE: the address is never looked at, so never stored or logged."""
    return None


class AccountOnlyHandler(AxesDatabaseHandler):
    """axes' database handler without the user agent (the address is already None)."""

    @staticmethod
    def _forget_client(request):
        if request is not None:
            request.axes_ip_address = None
            request.axes_user_agent = ""

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        self._forget_client(request)
        return super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs):
        self._forget_client(request)
        return super().user_logged_in(sender, request, user, **kwargs)

    def user_logged_out(self, sender, request, user, **kwargs):
        self._forget_client(request)
        return super().user_logged_out(sender, request, user, **kwargs)
