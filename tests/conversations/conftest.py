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
