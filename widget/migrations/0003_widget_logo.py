from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("widget", "0002_embed_check")]

    operations = [
        migrations.AddField(
            model_name="widgetsettings",
            name="logo",
            field=models.BinaryField(blank=True, default=b"", editable=False),
        ),
        migrations.AddField(
            model_name="widgetsettings",
            name="logo_hash",
            field=models.CharField(blank=True, editable=False, max_length=16),
        ),
    ]
