from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0006_customanswer"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="feedback",
            field=models.CharField(
                blank=True,
                choices=[("up", "Helpful"), ("down", "Not helpful")],
                db_default="",
                default="",
                max_length=4,
            ),
        ),
    ]
