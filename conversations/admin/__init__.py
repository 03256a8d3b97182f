"""The customer's admin (site schema): transcripts, leads, the GDPR desk, custom answers,
visitors, the access log; and the staff admin's site list (public schema).

Django's admin autodiscovery imports `conversations.admin`: this package. Each module
registers its own model admins when imported here.
"""

from conversations.admin import (  # noqa: F401 - registers their model admins
    answers,
    audit,
    conversations,
    requests,
    staff,
    visitors,
)

# Groups and API tokens out of the customer's menu until used; the e-mail login form.
from conversations.admin.menu import admin_menu_install

admin_menu_install()
