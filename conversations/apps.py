from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported for their system checks' registration (Django's ready() hook).
        from conversations.chat import phases  # noqa: F401
        from conversations.privacy import residency  # noqa: F401
