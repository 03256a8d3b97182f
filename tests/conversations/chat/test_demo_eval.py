"""Evaluation on the bundled demo website with the default offline model.

The demo pages are fetched from a real server (`live_server`) and indexed with the crawler's
`index_html`; every question in demo_eval.json then goes through `answer_question` exactly as
a visitor's would. The English on-topic questions must nearly all be answered citing one of
their expected pages (and contain the expected fact); the Finnish ones, asked of an English
site with no translation in the offline path, must each be answered or refused in Finnish;
off-topic ones must be refused without a model call. These questions are in-sample (the
answer path was tuned on them); the held-out figures are in bench/answer_quality.py.
"""

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from django_tenants.utils import tenant_context

from conversations.chat.answer import REFUSAL, answer_question
from widget import demo

EVAL = json.loads((Path(__file__).parent / "demo_eval.json").read_text())


def page_url(base: str, slug: str) -> str:
    return f"{base}/demo/" if slug == "home" else f"{base}/demo/{slug}/"


@pytest.fixture
def demo_site(live_server, site_a):
    """site_a with every demo page fetched over HTTP and indexed (committed)."""
    from crawler.index import index_html

    with httpx.Client(timeout=10) as client, tenant_context(site_a):
        for slug in demo.PAGES:
            url = page_url(live_server.url, slug)
            response = client.get(url)
            assert response.status_code == 200, url
            index_html(url, response.text, headers=dict(response.headers))
    return site_a, live_server.url


def slug_of(url: str, base: str) -> str:
    path = url.split("#")[0].removeprefix(base + "/demo/").strip("/")
    return path or "home"


def evaluate(site, base: str) -> tuple[list[str], dict]:
    """(failures, counts) over every question in the evaluation file."""
    failures: list[str] = []
    counts = {"on_topic": 0, "answered": 0, "off_topic": 0, "refused": 0, "fi_framed": 0}

    async def run():
        for item in EVAL["on_topic_fi"]:
            result = await answer_question(item["q"], site=site)
            finnish = result.text == REFUSAL["fi"] or (
                not result.refused and result.language == "fi" and result.sources
            )
            counts["fi_framed"] += bool(finnish)
        for item in EVAL["on_topic_en"]:
            counts["on_topic"] += 1
            result = await answer_question(item["q"], site=site)
            cited = [slug_of(s["url"], base) for s in result.sources]
            problems = []
            if result.refused or result.error:
                problems.append("refused" if result.refused else result.error)
            elif not set(cited) & set(item["pages"]):
                problems.append(f"cites {cited}, expected one of {item['pages']}")
            elif item.get("fact") and item["fact"] not in result.text:
                problems.append(f"lacks {item['fact']!r}")
            if problems:
                failures.append(f"{item['q']!r}: {'; '.join(problems)} -> {result.text[:160]!r}")
            else:
                counts["answered"] += 1
        for question in EVAL["off_topic"]:
            counts["off_topic"] += 1
            result = await answer_question(question, site=site)
            if result.refused and not result.sources:
                counts["refused"] += 1
            else:
                failures.append(f"{question!r}: not refused -> {result.text[:160]!r}")

    asyncio.run(run())
    return failures, counts


def test_it_answers_the_demo_questions_and_refuses_off_topic_ones(demo_site, settings):
    site, base = demo_site
    settings.CLOOP_OFFLINE_CHUNK_MS = 0
    failures, counts = evaluate(site, base)
    print(
        f"\n[demo eval] answered correctly {counts['answered']}/{counts['on_topic']}, "
        f"refused correctly {counts['refused']}/{counts['off_topic']}, "
        f"Finnish framing {counts['fi_framed']}/{len(EVAL['on_topic_fi'])}"
    )
    assert len(EVAL["on_topic_en"]) >= 30 and len(EVAL["on_topic_fi"]) >= 10
    assert len(EVAL["off_topic"]) >= 10
    assert counts["answered"] >= 0.9 * counts["on_topic"], "\n".join(failures)
    assert counts["refused"] == counts["off_topic"], "\n".join(failures)
    assert counts["fi_framed"] == len(EVAL["on_topic_fi"])
