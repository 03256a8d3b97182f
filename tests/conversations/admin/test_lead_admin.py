"""The leads admin shows what the visitor gave; only `leads.lead_save` writes a lead."""

from conversations.models import Lead
from tests.conversations.admin_data import person_make


def test_it_cannot_change_a_leads_consent_from_the_admin(owner_a):
    _, _, lead = person_make("consent@example.com")
    before = Lead.objects.values().get(pk=lead.pk)
    url = f"/admin/conversations/lead/{lead.pk}/change/"
    page = owner_a.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Send me news" in html  # the wording is shown …
    for field in ("marketing_consent", "consent_text", "consent_at", "email"):
        assert f'name="{field}"' not in html  # … but no field is an input
    forged = owner_a.post(
        url,
        {
            "email": "someone-else@example.com",
            "marketing_consent": "",
            "consent_text": "I agreed to nothing",
            "consent_at_0": "2020-01-01",
            "consent_at_1": "00:00:00",
            "source": "admin",
        },
    )
    assert forged.status_code == 403
    assert Lead.objects.values().get(pk=lead.pk) == before


def test_it_offers_no_way_to_add_a_lead_by_hand(owner_a):
    assert owner_a.get("/admin/conversations/lead/add/").status_code == 403
    posted = owner_a.post(
        "/admin/conversations/lead/add/",
        {"email": "made-up@example.com", "marketing_consent": "on", "source": "admin"},
    )
    assert posted.status_code == 403
    assert not Lead.objects.exists()
    listing = owner_a.get("/admin/conversations/lead/").content.decode()
    assert "/admin/conversations/lead/add/" not in listing


def test_it_still_lets_the_customer_delete_a_lead(owner_a):
    _, _, lead = person_make("delete-me@example.com")
    response = owner_a.post(f"/admin/conversations/lead/{lead.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Lead.objects.filter(pk=lead.pk).exists()
