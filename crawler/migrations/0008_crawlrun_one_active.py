from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crawler", "0007_crawlrun_traps"),
    ]

    operations = [
        # Sites whose earlier check-then-insert let two runs in: keep the newest active one.
        migrations.RunSQL(
            "UPDATE crawler_crawlrun SET status = 'failed', "
            "error = 'superseded: one queued or running crawl per site' "
            "WHERE status IN ('queued', 'running') AND id < "
            "(SELECT max(id) FROM crawler_crawlrun WHERE status IN ('queued', 'running'))",
            migrations.RunSQL.noop,
        ),
        migrations.AddConstraint(
            model_name="crawlrun",
            constraint=models.UniqueConstraint(
                models.Value(True),
                condition=models.Q(("status__in", ["queued", "running"])),
                name="crawler_crawlrun_one_active",
            ),
        ),
    ]
