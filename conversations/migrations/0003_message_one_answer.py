"""At most one successful answer per question (constraint `message_one_answer`).

Existing data may hold several successful answers to one question (the same message sent on
two sockets at once): the earliest is kept, the later ones are deleted before the constraint
is added, so the migration runs on any site's schema.
"""

from django.db import migrations, models

DEDUPE = """
DELETE FROM conversations_message AS later
USING conversations_message AS first
WHERE later.reply_to_id = first.reply_to_id
  AND later.error = '' AND first.error = ''
  AND later.id > first.id;
-- Run the deferred foreign-key checks of that DELETE now: PostgreSQL refuses to build the
-- constraint's index on a table with pending trigger events.
SET CONSTRAINTS ALL IMMEDIATE;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0002_access_log"),
    ]

    operations = [
        migrations.RunSQL(DEDUPE, reverse_sql=migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                condition=models.Q(("error", ""), ("reply_to__isnull", False)),
                fields=("reply_to",),
                name="message_one_answer",
            ),
        ),
    ]
