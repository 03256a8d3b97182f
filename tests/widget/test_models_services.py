"""Widget settings (a per-site singleton) and what the window is told about the site."""

import pytest
from django.core.exceptions import ValidationError

from widget import services
from widget.models import WidgetSettings
from widget.strings import STRINGS


def test_it_keeps_one_settings_row_per_site(in_site_a):
    first = WidgetSettings.load()
    first.bot_name = "Ada"
    first.save()
    WidgetSettings(bot_name="Other").save()  # a second save still writes the one row
    assert WidgetSettings.objects.count() == 1
    assert WidgetSettings.load().bot_name == "Other"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("primary_color", "red"),
        ("primary_color", "#12345"),
        ("position", "middle"),
        ("starter_questions", "not a list"),
        ("starter_questions", ["q"] * 7),
        ("starter_questions", ["x" * 201]),
        ("privacy_url", "javascript:alert(1)"),
    ],
)
def test_it_rejects_bad_settings_with_a_clear_error(in_site_a, field, value):
    ws = WidgetSettings.load()
    setattr(ws, field, value)
    with pytest.raises(ValidationError) as err:
        ws.full_clean()
    assert field in err.value.message_dict


def test_it_uses_the_site_language_defaults_and_overrides(in_site_a):
    site = in_site_a
    data = services.widget_settings_as_dict(site)
    assert data["bot_name"] == site.name  # "Chat with Site A Oy", not "Chat with Assistant"
    assert data["privacy_url"].endswith(f"/privacy/{site.site_id}/")
    assert data["consent_text"] == STRINGS["en"]["consent"]
    ws = WidgetSettings.load()
    ws.privacy_url = "https://site-a.test/privacy"
    ws.consent_text = "Send me the newsletter."
    ws.primary_color = "#ffdd00"
    ws.save()
    data = services.widget_settings_as_dict(site)
    assert data["privacy_url"] == "https://site-a.test/privacy"
    assert data["consent_text"] == "Send me the newsletter."
    assert data["text_color"] == "#000000"  # black on yellow, not white
    assert data["link_color"] != "#ffdd00"  # too light for links on white: a darker shade


def test_it_has_every_ui_string_in_english_and_finnish():
    assert set(STRINGS["en"]) == set(STRINGS["fi"])
    assert all(v.strip() for lang in STRINGS.values() for v in lang.values())


@pytest.mark.parametrize(
    ("color", "text"), [("#ffffff", "#000000"), ("#000000", "#ffffff"), ("#1f5fbf", "#ffffff")]
)
def test_it_picks_the_readable_text_colour(color, text):
    assert services.readable_text_color(color) == text


def test_it_accepts_only_allowed_parent_origins(site_a):
    assert services.parent_origin_check(site_a, "http://SITE-A.test:80/") == "http://site-a.test"
    assert services.parent_origin_check(site_a, "http://localhost:8000") == "http://localhost:8000"
    for bad in ("http://site-a.test.evil.example", "https://site-a.test", "null", ""):
        assert services.parent_origin_check(site_a, bad) is None
