import datetime
import re
from pathlib import Path

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from conversations.models import SiteSettings
from conversations.notice import notice_missing

SEED = Path("/work/shared/seed/privacy-notice-template.txt")
if not SEED.exists():  # CI lays shared/ beside the clone
    SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "privacy-notice-template.txt"


def _text(html: str) -> str:
    html = re.sub(r"<(style|title)>.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"</?(strong|span|a|code|time|em)\b[^>]*>", "", html)
    text = re.sub(r"<[^>]+>", " ", text)
    text = text.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&")
    return re.sub(r"\s+", " ", text)


def _seed_sentences() -> list[str]:
    """Every line of the seed that a visitor must read (the customer guide is separate)."""
    lines = SEED.read_text().split("For Cloop Customers")[0].splitlines()
    out = []
    for line in lines:
        line = line.strip().lstrip("- ").strip()
        if not line or line.startswith("|---"):
            continue
        if line.startswith("|"):
            out.extend(c.strip() for c in line.strip("|").split("|") if c.strip())
        else:
            # The seed's plain-text export joins some list items with " - ".
            out.extend(part.strip() for part in line.split(" - ") if part.strip())
    return out


def _contact_set(site, email: str) -> None:
    """Change the row only (rolled back after the test), not the session-wide site object."""
    type(site).objects.filter(pk=site.pk).update(contact_email=email)


@pytest.fixture
def public_client(db):
    return Client(HTTP_HOST="localhost")


def test_it_shows_placeholders_for_missing_fields_and_the_admin_knows(
    public_client, site_a, settings
):
    with tenant_context(site_a):
        s = SiteSettings.load()
        s.company_name = ""
        s.notice_published_on = None
        s.save()
    _contact_set(site_a, "")
    response = public_client.get("/privacy/site-a/")
    assert response.status_code == 200
    text = _text(response.content.decode())
    for placeholder in ("[Customer Name]", "[Customer Contact Email]", "[date]"):
        assert placeholder in text
    assert "cloop_visitor_site-a" in text
    assert "For Cloop Customers: How to Use This Template" in text
    assert {m["placeholder"] for m in notice_missing(type(site_a).objects.get(pk=site_a.pk))} == {
        "[Customer Name]",
        "[Customer Contact Email]",
        "[date]",
    }


def test_it_fills_every_fact_of_the_seed_template(public_client, site_a):
    with tenant_context(site_a):
        s = SiteSettings.load()
        s.company_name = "Site A Oy"
        s.notice_published_on = datetime.date(2026, 11, 1)
        s.save()
    _contact_set(site_a, "dpo@site-a.test")
    text = _text(public_client.get("/privacy/site-a/").content.decode())
    filled = {
        "[Customer Name]": "Site A Oy",
        "[Customer Contact Email]": "dpo@site-a.test",
        "[date]": "1 November 2026",
        "cloop_visitor_[site-id]": "cloop_visitor_site-a",
    }
    sentences = _seed_sentences()
    assert len(sentences) > 40
    sentences = [x for x in sentences if x != "Key:"]
    for sentence in sentences:
        for placeholder, value in filled.items():
            sentence = sentence.replace(placeholder, value)
        assert sentence in text, sentence
    assert "[Customer Name]" not in text and "[date]" not in text
    assert "For Cloop Customers" not in text
    assert notice_missing(type(site_a).objects.get(pk=site_a.pk)) == []


def test_it_answers_404_for_unknown_sites(public_client):
    assert public_client.get("/privacy/no-such-site/").status_code == 404
    assert public_client.get("/privacy/BAD_ID/").status_code == 404
