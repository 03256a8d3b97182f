from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crawler", "0008_crawlrun_one_active"),
    ]

    operations = [
        migrations.AddField(
            model_name="page",
            name="source",
            field=models.CharField(
                choices=[("crawl", "Crawled"), ("answer", "Custom answer")],
                db_default="crawl",
                default="crawl",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="page",
            name="cite_url",
            field=models.CharField(blank=True, db_default="", max_length=2000),
        ),
    ]
