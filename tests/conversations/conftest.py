import pytest

from tests.conversations.llm_server import LoopbackOpenAI
from tests.conversations.pages import PAGES_A, PAGES_B, index_pages


@pytest.fixture
def indexed_sites(live_db, site_a, site_b):
    """Both session sites with a small committed index."""
    index_pages(site_a, PAGES_A)
    index_pages(site_b, PAGES_B)
    return site_a, site_b


@pytest.fixture
def openai_server(settings, monkeypatch):
    """A loopback OpenAI-compatible server; CLOOP_LLM_MODEL points litellm at it."""
    server = LoopbackOpenAI().start()
    monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loopback")
    settings.CLOOP_LLM_MODEL = "openai/gpt-4o-mini"
    yield server
    server.stop()


class _Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's API
        from email import message_from_bytes, policy

        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, msg))
        return "250 Message accepted for delivery"

    def wait(self, count: int = 1, timeout: float = 20.0):
        import time

        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback; Django's SMTP backend sends to it."""
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    try:
        yield inbox
    finally:
        controller.stop()
