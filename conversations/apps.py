from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from conversations.privacy import residency  # noqa: F401 - registers the deploy check
