import datetime
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from conversations.models import SiteSettings
from conversations.privacy.notice import notice_facts, notice_missing

# The legal text the notice is made from; every sentence of it is on the page.
SEED = Path(__file__).resolve().parents[3] / "docs" / "privacy-notice-seed.txt"


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


PLACEHOLDERS = ("[Customer Name]", "[Customer Contact Email]", "[date]", "[", "]")


def test_it_never_shows_a_placeholder_or_the_customer_guide_to_visitors(public_client, site_a):
    """Nothing set by the customer, no admin user: the notice is still complete, with the
    site's name, a neutral sentence for the contact and its first publication as its date;
    the admin is told what is missing."""
    with tenant_context(site_a):
        s = SiteSettings.load()
        s.company_name = ""
        s.notice_published_on = None
        s.notice_first_published_on = None
        s.save()
    _contact_set(site_a, "")
    response = public_client.get("/privacy/site-a/")
    assert response.status_code == 200
    text = _text(response.content.decode())
    assert not [p for p in PLACEHOLDERS if p in text]
    assert "How to Use This Template" not in text and "For Cloop Customers" not in text
    assert 'This notice is provided by Site A Oy ("we")' in text
    assert (
        "To exercise these rights, contact us using the contact details on our website. "
        "We will respond within 30 days."
    ) in text
    today = timezone.localdate()
    assert f"This notice was last updated on {today:%-d %B %Y}. Powered by Cloop." in text
    assert "cloop_visitor_site-a" in text
    site = type(site_a).objects.get(pk=site_a.pk)
    assert [m["placeholder"] for m in notice_missing(site)] == ["[Customer Contact Email]"]
    facts = notice_facts(site)
    assert facts["company_name"]["source"] == "site_name"
    assert facts["published_on"] == {**facts["published_on"], "source": "first_published"}
    assert facts["published_on"]["value"] == today


def test_it_names_the_admin_user_until_the_customer_sets_a_contact(public_client, site_a):
    from django.contrib.auth import get_user_model

    _contact_set(site_a, "")
    with tenant_context(site_a):
        get_user_model().objects.create_superuser("owner", "owner@site-a.test", "pw-123456789")
    text = _text(public_client.get("/privacy/site-a/").content.decode())
    assert "To exercise these rights, contact us at owner@site-a.test." in text
    site = type(site_a).objects.get(pk=site_a.pk)
    assert notice_facts(site)["contact_email"]["source"] == "admin_user"
    assert notice_missing(site) == []


def test_it_keeps_the_first_publication_date(public_client, site_a):
    with tenant_context(site_a):
        s = SiteSettings.load()
        s.notice_published_on = None
        s.notice_first_published_on = datetime.date(2026, 10, 3)
        s.save()
    text = _text(public_client.get("/privacy/site-a/").content.decode())
    assert "This notice was last updated on 3 October 2026." in text
    with tenant_context(site_a):
        assert SiteSettings.load().notice_first_published_on == datetime.date(2026, 10, 3)


def test_it_links_the_cloop_privacy_policy_which_cloop_serves(public_client, site_a):
    page = public_client.get("/privacy/site-a/").content.decode()
    link = re.search(
        r'<a data-field="cloop_policy" href="([^"]+)"[^>]*>Cloop Privacy Policy</a>', page
    )
    assert link and link.group(1) == "http://localhost:8000/privacy/cloop/"
    policy = public_client.get("/privacy/cloop/")
    assert policy.status_code == 200
    text = _text(policy.content.decode())
    assert "Cloop Privacy Policy" in text and "processor" in text
    assert "does not store your IP address" in text


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


class _Shape(HTMLParser):
    """The page's structure without its words: tags with their ids and data attributes."""

    KEEP = {"h1", "h2", "p", "ul", "li", "table", "tr", "th", "td", "footer", "section", "code"}

    def __init__(self):
        super().__init__()
        self.shape: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        keep = tuple(sorted((k, v) for k, v in attrs if k == "id" or k.startswith("data-")))
        if tag in self.KEEP or keep:
            self.shape.append((tag, keep))


def _shape(html: str) -> list[tuple]:
    parser = _Shape()
    parser.feed(html)
    return parser.shape


def _notice_set(site, *, language, company="", email="", published=None):
    type(site).objects.filter(pk=site.pk).update(language=language, contact_email=email)
    with tenant_context(site):
        s = SiteSettings.load()
        s.company_name = company
        s.notice_published_on = published
        s.save()


@pytest.mark.parametrize("filled", [False, True])
def test_it_serves_every_section_in_finnish_with_the_english_structure(
    public_client, site_a, filled
):
    values = {"company": "Site A Oy", "email": "dpo@site-a.test", "published": None}
    if filled:
        values["published"] = datetime.date(2026, 11, 1)
    else:
        values = {}
    _notice_set(site_a, language="en", **values)
    en = public_client.get("/privacy/site-a/").content.decode()
    _notice_set(site_a, language="fi", **values)
    fi_page = public_client.get("/privacy/site-a/")
    fi = fi_page.content.decode()
    assert fi_page.status_code == 200 and '<html lang="fi">' in fi
    # Same sections, paragraphs, list items, table rows, fields and placeholders, in order.
    assert _shape(fi) == _shape(en)
    assert len(_shape(en)) > 60
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", fi)
    assert headings[:7] == [
        "Mitä tapahtuu, kun keskustelet",
        "Mitä tietoja kerätään",
        "Miten tekoälyä käytetään",
        "Sähköpostiosoitteesi",
        "Tietojen säilytys ja turvallisuus",
        "Oikeutesi",
        "Evästeet ja selaimen tallennustila",
    ]
    # Translated, not copied: no sentence of the seed is left in English.
    fi_text = _text(fi)
    english = [s for s in _seed_sentences() if len(s) > 12 and "cloop_visitor" not in s]
    assert len(english) > 30
    assert [s for s in english if s in fi_text] == []
    assert "cloop_visitor_site-a" in fi_text and "ROFFI Oy (Suomi)" in fi_text
    assert "Vastaamme 30 päivän kuluessa." in fi_text
    assert "Site A Oy" in fi_text and "Cloopin asiakkaille" not in fi_text
    assert not [p for p in PLACEHOLDERS if p in fi_text]
    if filled:
        assert "dpo@site-a.test" in fi_text and "1.11.2026" in fi_text
    else:
        assert "ottamalla meihin yhteyttä verkkosivustomme yhteystietojen kautta." in fi_text


def test_it_keeps_the_english_notice_for_any_other_language(public_client, site_a):
    type(site_a).objects.filter(pk=site_a.pk).update(language="sv")
    page = public_client.get("/privacy/site-a/").content.decode()
    assert "What Happens When You Chat" in page and "Mitä tapahtuu" not in page
    # The page says the language it is written in, not the site's.
    assert '<html lang="en">' in page
