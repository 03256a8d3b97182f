from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0005_sitesettings_notice_first_published"),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomAnswer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("question", models.CharField(help_text="The question as visitors ask it (its words are matched).", max_length=500)),
                ("answer", models.TextField(help_text="The answer, as plain text.", max_length=5000)),
                ("link", models.URLField(blank=True, help_text="Optional: a page of your website to cite instead of this answer's own page.", max_length=1000)),
                ("active", models.BooleanField(default=True, help_text="Inactive answers are taken out of the index at once.")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"ordering": ["question", "id"]},
        ),
    ]
