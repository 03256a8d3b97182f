"""The customer REST API under /api/v1/ on the site's host (the crawl runs' view is the
crawler's own, crawler.api)."""

from django.urls import path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from conversations.api import views
from crawler.api import CrawlRunList
from team.api import obtain_auth_token

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("conversations/", views.ConversationList.as_view(), name="api-conversations"),
    path(
        "conversations/<int:pk>/",
        views.ConversationDetail.as_view(),
        name="api-conversation-detail",
    ),
    path("leads/", views.LeadList.as_view(), name="api-leads"),
    path("leads.csv", views.LeadCSV.as_view(), name="api-leads-csv"),
    path("data-requests/", views.DataRequestList.as_view(), name="api-data-requests"),
    path(
        "data-requests/<int:pk>/",
        views.DataRequestDetail.as_view(),
        name="api-data-request-detail",
    ),
    path(
        "data-requests/<int:pk>/act/", views.DataRequestAct.as_view(), name="api-data-request-act"
    ),
    path("settings/", views.SiteSettingsView.as_view(), name="api-settings"),
    path("crawl-runs/", CrawlRunList.as_view(), name="api-crawl-runs"),
    path("schema/", views.SchemaView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
