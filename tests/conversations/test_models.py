import datetime

import pytest
from django.db import IntegrityError, transaction

from conversations.models import (
    Conversation,
    DataRequest,
    Message,
    SiteSettings,
    Visitor,
)


def test_it_keeps_one_site_settings_row(in_site_a):
    first = SiteSettings.load()
    first.daily_message_quota = 7
    first.save()
    SiteSettings(company_name="x").save()
    assert SiteSettings.objects.count() == 1
    assert SiteSettings.load().company_name == "x"


def test_it_sets_data_request_due_date_30_days_after_receipt(in_site_a):
    req = DataRequest.objects.create(kind="access", received_on=datetime.date(2026, 1, 10))
    assert req.due_on == datetime.date(2026, 2, 9)
    req.received_on = datetime.date(2026, 3, 1)
    req.save()
    req.refresh_from_db()
    assert req.due_on == datetime.date(2026, 3, 31)


def test_it_counts_days_left_until_the_deadline(in_site_a):
    today = datetime.date.today()
    req = DataRequest.objects.create(kind="erasure", received_on=today - datetime.timedelta(days=5))
    assert req.days_left == 25
    req.extended_until = today + datetime.timedelta(days=40)
    assert req.days_left == 40


def test_it_refuses_a_duplicate_client_message_id_in_one_conversation(in_site_a):
    conv = Conversation.objects.create(visitor=Visitor.objects.create())
    Message.objects.create(conversation=conv, role="visitor", text="a", client_message_id="m1")
    Message.objects.create(conversation=conv, role="visitor", text="b", client_message_id=None)
    Message.objects.create(conversation=conv, role="visitor", text="c", client_message_id=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(conversation=conv, role="visitor", text="d", client_message_id="m1")
    other = Conversation.objects.create(visitor=conv.visitor)
    Message.objects.create(conversation=other, role="visitor", text="e", client_message_id="m1")
