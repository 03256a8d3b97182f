"""Data residency: is every place a visitor's words go inside the EU, as the notice says?

The privacy notice tells visitors that their messages are stored and processed in the EU
(Finland). Cloop's own data — PostgreSQL, Redis, backups — is where the operator runs it
(CLOOP_DATA_REGION names it, default `fi`). The chat model (CLOOP_LLM_MODEL) and the embedding
model (CLOOP_EMBEDDING_MODEL, which embeds visitors' questions at search time) receive
visitors' words too, and a litellm model name can point anywhere. `manage.py check --deploy`
runs `residency_check`, which warns when one of them is not known to be in the EU:

- in the EU: the offline model; a self-hosted endpoint (loopback, a private address, a
  single-label or `.internal`/`.svc`/`.local` host beside Cloop); an endpoint or region whose
  name is an EU cloud region (`eu-central-1`, `europe-north1`, `swedencentral`, `eu`, an EU
  country code); Mistral's own API (hosted in the EU); a provider region the operator declares
  with CLOOP_LLM_REGION;
- otherwise (OpenAI's or Anthropic's default API, Azure without an EU region, any unknown
  provider) it warns, unless CLOOP_LLM_REGION_ACK records why the transfer is acceptable
  (e.g. "DPA + SCCs signed 2026-03; notice updated").

Endpoints are read as litellm reads them: from the provider's own variables (OPENAI_API_BASE,
AZURE_API_BASE, OLLAMA_API_BASE, AWS_REGION_NAME, VERTEXAI_LOCATION, ...), which are litellm's
configuration, not Cloop settings. No database access.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

# fmt: off
EU_COUNTRIES = frozenset({
    "at", "be", "bg", "hr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "gr", "hu", "ie", "it",
    "lv", "lt", "lu", "mt", "nl", "pl", "pt", "ro", "sk", "si", "es", "se",
})
# Cloud regions located in EU member states (London, Zurich, Oslo are not in the EU).
EU_CLOUD_REGIONS = frozenset({
    # AWS
    "eu-west-1", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1", "eu-south-2",
    # Google Cloud
    "europe-west1", "europe-west3", "europe-west4", "europe-west8", "europe-west9",
    "europe-west10", "europe-west12", "europe-north1", "europe-north2", "europe-central2",
    "europe-southwest1",
    # Azure
    "swedencentral", "swedensouth", "francecentral", "francesouth", "germanywestcentral",
    "germanynorth", "northeurope", "westeurope", "italynorth", "polandcentral", "spaincentral",
    "austriaeast",
    # Multi-region / data-zone names (OpenAI's eu.api, Vertex's eu, Azure's EU Data Zone).
    "eu", "europe",
})
# fmt: on
# Where litellm reads each provider's endpoint (first set wins) and region.
ENDPOINT_VARS = {
    "openai": ("OPENAI_API_BASE", "OPENAI_BASE_URL"),
    "text-completion-openai": ("OPENAI_API_BASE", "OPENAI_BASE_URL"),
    "azure": ("AZURE_API_BASE",),
    "azure_ai": ("AZURE_AI_API_BASE",),
    "anthropic": ("ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"),
    "mistral": ("MISTRAL_API_BASE",),
    "ollama": ("OLLAMA_API_BASE",),
    "ollama_chat": ("OLLAMA_API_BASE",),
    "hosted_vllm": ("HOSTED_VLLM_API_BASE",),
    "huggingface": ("HUGGINGFACE_API_BASE",),
}
REGION_VARS = {
    "bedrock": ("AWS_REGION_NAME", "AWS_REGION"),
    "sagemaker": ("AWS_REGION_NAME", "AWS_REGION"),
    "vertex_ai": ("VERTEXAI_LOCATION",),
}
# Providers whose default endpoint runs beside Cloop or inside the EU.
LOCAL_BY_DEFAULT = frozenset({"cloop-offline", "ollama", "ollama_chat"})
EU_BY_DEFAULT = frozenset({"mistral"})
LOCAL_SUFFIXES = (".local", ".internal", ".svc", ".cluster.local", ".lan", ".localhost")
# Region names matched as the start of a host label (`europe-west4-aiplatform...`); the bare
# `eu`/`europe` only as a whole label, or `eu-west-2` (London) would pass as `eu-`.
_REGION_PREFIXES = tuple(f"{r}-" for r in EU_CLOUD_REGIONS if r not in ("eu", "europe"))


def region_in_eu(region: str) -> bool:
    """True for an EU country code (`fi`) or a cloud region located in the EU."""
    region = region.strip().lower()
    return region in EU_COUNTRIES or region in EU_CLOUD_REGIONS


def endpoint_place(api_base: str) -> str:
    """'local', 'eu' or '' (unknown) for a model endpoint URL, from its host name alone."""
    host = (urlsplit(api_base if "//" in api_base else f"//{api_base}").hostname or "").lower()
    if not host:
        return ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or "." not in host or host.endswith(LOCAL_SUFFIXES):
            return "local"  # a service name in the same compose project / cluster
    else:
        return "local" if (ip.is_loopback or ip.is_private or ip.is_link_local) else ""
    for label in host.split("."):
        if region_in_eu(label) or label.startswith(_REGION_PREFIXES):
            return "eu"  # eu-central-1.amazonaws.com, europe-west4-aiplatform..., eu.api...
    return ""


def _provider(model: str) -> str:
    if "/" in model:
        return model.split("/", 1)[0].lower()
    # litellm's bare names: gpt-4o, o3-mini, text-embedding-3-small, claude-3-5-sonnet, ...
    if model.startswith(("gpt-", "o1", "o3", "o4", "text-embedding-", "chatgpt")):
        return "openai"
    if model.startswith("claude"):
        return "anthropic"
    return model.lower()


def _first(environ: Mapping[str, str], names) -> str:
    return next((environ[n].strip() for n in names if environ.get(n, "").strip()), "")


def model_place(model: str, *, region: str = "", environ: Mapping[str, str] = os.environ):
    """Where `model`'s requests are processed: (in_eu, description) for the warning text.

    `region` is CLOOP_LLM_REGION (the operator's declaration; it wins when set).
    """
    provider = _provider(model)
    if region:
        return region_in_eu(region), f"declared region {region!r}"
    api_base = _first(environ, ENDPOINT_VARS.get(provider, ()))
    if api_base:
        place = endpoint_place(api_base)
        return bool(place), f"endpoint {urlsplit(api_base).hostname or api_base}"
    provider_region = _first(environ, REGION_VARS.get(provider, ()))
    if provider_region:
        return region_in_eu(provider_region), f"{provider} region {provider_region!r}"
    if provider in LOCAL_BY_DEFAULT or provider in EU_BY_DEFAULT:
        return True, f"{provider}'s default endpoint"
    return False, f"{provider}'s default endpoint, region unknown"


def residency_warnings(
    *,
    llm_model: str,
    embedding_model: str = "",
    llm_region: str = "",
    region_ack: str = "",
    data_region: str = "fi",
    environ: Mapping[str, str] = os.environ,
) -> list[checks.Warning]:
    """The residency warnings for these settings (pure; `residency_check` passes settings)."""
    found = []
    if not region_in_eu(data_region):
        found.append(
            checks.Warning(
                f"CLOOP_DATA_REGION is {data_region!r}, outside the EU, but the privacy notice "
                "tells visitors their data is stored and processed in the EU (Finland).",
                hint="Run PostgreSQL, Redis and backups in the EU, or change the notice first.",
                id="cloop.W003",
            )
        )
    if region_ack.strip():
        return found
    for setting, model, wid in (
        ("CLOOP_LLM_MODEL", llm_model, "cloop.W001"),
        ("CLOOP_EMBEDDING_MODEL", embedding_model, "cloop.W002"),
    ):
        if not model:
            continue
        in_eu, where = model_place(model, region=llm_region, environ=environ)
        if in_eu:
            continue
        found.append(
            checks.Warning(
                f"{setting}={model!r} sends visitors' messages to a provider not known to be in "
                f"the EU ({where}); the privacy notice says they are processed in the EU.",
                hint=(
                    "Use an EU endpoint (Mistral, Azure OpenAI in an EU region with "
                    "CLOOP_LLM_REGION=swedencentral, a self-hosted model), or set "
                    "CLOOP_LLM_REGION_ACK to the basis of the transfer (e.g. 'DPA + SCCs "
                    "2026-03') once the notice says so. See docs/platform.md#data-residency."
                ),
                id=wid,
            )
        )
    return found


@checks.register(checks.Tags.security, "residency", deploy=True)
def residency_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`manage.py check --deploy`: the residency warnings for the running settings."""
    return residency_warnings(
        llm_model=settings.CLOOP_LLM_MODEL,
        embedding_model=settings.CLOOP_EMBEDDING_MODEL,
        llm_region=settings.CLOOP_LLM_REGION,
        region_ack=settings.CLOOP_LLM_REGION_ACK,
        data_region=settings.CLOOP_DATA_REGION,
    )
