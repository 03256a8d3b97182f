"""Leads and what goes out about them: a visitor's e-mail and consent, lead exports, the
team's notifications and weekly digest, the conversation summary a visitor asks for, and
their Celery tasks."""
