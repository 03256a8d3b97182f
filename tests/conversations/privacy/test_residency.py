"""Data residency: `check --deploy` warns when visitors' words would leave the EU."""

import pytest
from django.core import checks

from conversations.privacy.residency import endpoint_place, residency_warnings
from tests.cloop.test_settings import _manage, _production_env


def _ids(**kw) -> list[str]:
    return [w.id for w in residency_warnings(**kw)]


@pytest.mark.parametrize(
    ("model", "environ", "region"),
    [
        ("cloop-offline/extractive", {}, ""),
        ("mistral/mistral-small-latest", {}, ""),
        ("ollama/llama3", {}, ""),  # litellm's default: localhost:11434
        ("openai/llama3", {"OPENAI_API_BASE": "http://127.0.0.1:8001/v1"}, ""),
        ("openai/qwen", {"OPENAI_API_BASE": "http://vllm:8000/v1"}, ""),  # compose service
        ("openai/qwen", {"OPENAI_API_BASE": "http://10.1.2.3:8000/v1"}, ""),
        ("openai/qwen", {"OPENAI_API_BASE": "https://llm.cloop.internal/v1"}, ""),
        ("openai/gpt-4o-mini", {"OPENAI_API_BASE": "https://eu.api.openai.com/v1"}, ""),
        ("azure/chat", {"AZURE_API_BASE": "https://swedencentral.api.cognitive.microsoft.com"}, ""),
        ("azure/chat", {"AZURE_API_BASE": "https://acme.openai.azure.com/"}, "swedencentral"),
        ("bedrock/anthropic.claude-3-haiku", {"AWS_REGION_NAME": "eu-central-1"}, ""),
        ("vertex_ai/gemini-1.5-flash", {"VERTEXAI_LOCATION": "europe-north1"}, ""),
        ("openai/gpt-4o-mini", {}, "fi"),  # the operator declares where it runs
    ],
)
def test_it_accepts_models_processed_in_the_eu(model, environ, region):
    assert _ids(llm_model=model, llm_region=region, environ=environ) == []


@pytest.mark.parametrize(
    ("model", "environ", "region"),
    [
        ("openai/gpt-4o-mini", {}, ""),
        ("gpt-4o-mini", {}, ""),
        ("anthropic/claude-3-5-haiku-latest", {}, ""),
        ("claude-3-5-haiku-latest", {}, ""),
        ("azure/chat", {"AZURE_API_BASE": "https://acme.openai.azure.com/"}, ""),
        ("azure/chat", {"AZURE_API_BASE": "https://eastus.api.cognitive.microsoft.com"}, ""),
        ("bedrock/anthropic.claude-3-haiku", {"AWS_REGION_NAME": "eu-west-2"}, ""),  # London
        ("bedrock/anthropic.claude-3-haiku", {"AWS_REGION_NAME": "us-east-1"}, ""),
        ("vertex_ai/gemini-1.5-flash", {"VERTEXAI_LOCATION": "europe-west2"}, ""),  # London
        ("openai/gpt-4o-mini", {"OPENAI_API_BASE": "https://api.example.com/v1"}, ""),
        ("groq/llama3-8b-8192", {}, ""),
        ("openai/gpt-4o-mini", {}, "us"),
    ],
)
def test_it_warns_about_models_outside_the_eu(model, environ, region):
    assert _ids(llm_model=model, llm_region=region, environ=environ) == ["cloop.W001"]


def test_it_warns_about_the_embedding_model_too_and_stays_quiet_once_acknowledged():
    kw = {"llm_model": "openai/gpt-4o", "embedding_model": "openai/text-embedding-3-small"}
    assert _ids(**kw, environ={}) == ["cloop.W001", "cloop.W002"]
    assert _ids(**kw, environ={}, region_ack="DPA + SCCs 2026-03; notice updated") == []
    ollama = {"llm_model": "cloop-offline/extractive", "embedding_model": "ollama/nomic-embed-text"}
    assert _ids(**ollama, environ={}) == []


def test_it_warns_when_the_data_itself_lives_outside_the_eu():
    assert _ids(llm_model="cloop-offline/extractive", data_region="us") == ["cloop.W003"]
    assert _ids(llm_model="cloop-offline/extractive", data_region="fi") == []
    assert _ids(llm_model="cloop-offline/extractive", data_region="europe-north1") == []


def test_it_reads_places_from_endpoint_host_names():
    assert endpoint_place("http://localhost:11434") == "local"
    assert endpoint_place("https://bedrock-runtime.eu-north-1.amazonaws.com") == "eu"
    assert endpoint_place("https://europe-west4-aiplatform.googleapis.com") == "eu"
    assert endpoint_place("https://bedrock-runtime.eu-west-2.amazonaws.com") == ""
    assert endpoint_place("https://api.openai.com/v1") == ""
    assert endpoint_place("https://8.8.8.8/v1") == ""


def test_it_runs_the_residency_check_only_under_check_deploy(settings):
    settings.CLOOP_LLM_MODEL = "anthropic/claude-3-5-haiku-latest"
    settings.CLOOP_LLM_REGION_ACK = ""
    assert checks.run_checks(tags=["residency"]) == []
    found = checks.run_checks(tags=["residency"], include_deployment_checks=True)
    assert [w.id for w in found] == ["cloop.W001"]
    assert "anthropic" in found[0].msg


def test_it_fails_check_deploy_on_a_provider_outside_the_eu_until_acknowledged():
    env = _production_env(CLOOP_LLM_MODEL="openai/gpt-4o-mini")
    env.pop("OPENAI_API_BASE", None)
    env.pop("OPENAI_BASE_URL", None)
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "cloop.W001" in result.stdout + result.stderr
    env["CLOOP_LLM_REGION_ACK"] = "DPA + SCCs with the provider, 2026-03; notice updated"
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
