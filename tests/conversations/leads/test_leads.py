import threading
import uuid

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from conversations.leads.leads import LeadError, lead_save
from conversations.models import Lead, Visitor

WORDING = "Yes, you may send me news and offers by e-mail."


def save(site, **kw):
    kw.setdefault("visitor_id", uuid.uuid4())
    kw.setdefault("conversation_id", None)
    return lead_save(site, **kw)


@pytest.mark.parametrize(
    "bad", ["", "   ", "not-an-email", "a@", "@b.fi", None, 42, "a" * 250 + "@x.fi"]
)
def test_it_refuses_an_invalid_email_and_stores_nothing(in_site_a, bad):
    with pytest.raises(LeadError) as err:
        save(in_site_a, email=bad)
    assert err.value.code == "invalid_email"
    assert Lead.objects.count() == 0


def test_it_stores_no_marketing_consent_unless_ticked(in_site_a):
    save(in_site_a, email="a@example.fi", consent_text=WORDING)
    save(in_site_a, email="b@example.fi", marketing_consent="true", consent_text=WORDING)
    save(in_site_a, email="c@example.fi", marketing_consent=1, consent_text=WORDING)
    for lead in Lead.objects.all():
        assert lead.marketing_consent is False
        assert lead.consent_text == "" and lead.consent_at is None


def test_it_records_consent_wording_time_and_source(in_site_a):
    vid = uuid.uuid4()
    out = save(
        in_site_a,
        visitor_id=vid,
        email=" Anna@Example.fi ",
        marketing_consent=True,
        consent_text=WORDING,
    )
    lead = Lead.objects.get()
    assert out["marketing_consent"] is True
    assert lead.email == "Anna@Example.fi"
    assert lead.consent_text == WORDING and lead.consent_at is not None
    assert lead.source == "widget" and lead.visitor_id == vid
    # Saving the same address again updates the one lead; no tick does not withdraw consent.
    save(in_site_a, visitor_id=vid, email="anna@example.fi")
    assert Lead.objects.count() == 1
    assert Lead.objects.get().marketing_consent is True


def test_it_does_not_store_an_email_for_an_objected_visitor(in_site_a):
    v = Visitor.objects.create(objected=True)
    with pytest.raises(LeadError) as err:
        save(in_site_a, visitor_id=v.pk, email="a@example.fi")
    assert err.value.code == "objected"
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("known", [False, True], ids=["new-visitor", "known-visitor"])
def test_it_saves_one_lead_when_20_sockets_send_one_address_at_once(live_db, site_a, known):
    """20 saves released together, by a visitor with or without a row already."""
    vid = uuid.uuid4()
    if known:
        with tenant_context(site_a):
            Visitor.objects.create(pk=vid)
    start = threading.Barrier(20)
    errors = []

    def one_socket():
        try:
            start.wait(10)
            lead_save(
                site_a,
                visitor_id=vid,
                conversation_id=None,
                email="Anna@example.fi",
                source=Lead.Source.SUMMARY,
            )
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_socket) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert errors == []
    with tenant_context(site_a):
        assert Visitor.objects.count() == 1
        assert list(Lead.objects.values_list("email", flat=True)) == ["Anna@example.fi"]
