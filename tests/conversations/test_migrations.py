"""Migrations of the conversations app are safe on a site's existing data."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import tenant_context

BEFORE = [("conversations", "0002_access_log")]
AFTER = [("conversations", "0003_message_one_answer")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_it_keeps_the_first_answer_when_adding_one_answer_per_question(live_db, site_b):
    with tenant_context(site_b):
        migrate(BEFORE)
        try:
            old = MigrationExecutor(connection).loader.project_state(BEFORE[0]).apps
            visitor = old.get_model("conversations", "Visitor").objects.create()
            conv = old.get_model("conversations", "Conversation").objects.create(visitor=visitor)
            message = old.get_model("conversations", "Message")
            q = message.objects.create(conversation=conv, role="visitor", text="Price?")
            first = message.objects.create(conversation=conv, role="assistant", reply_to=q)
            message.objects.create(conversation=conv, role="assistant", reply_to=q)
            failed = message.objects.create(
                conversation=conv, role="assistant", reply_to=q, error="model_error"
            )
        finally:
            migrate(AFTER)
        from conversations.models import Message

        kept = set(Message.objects.filter(reply_to=q.pk).values_list("pk", flat=True))
    assert kept == {first.pk, failed.pk}
