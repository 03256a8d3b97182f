"""Subject export and erasure for a visitor with N messages (goal: under 5 s each).

Usage: .venv/bin/python bench/export_subject.py [N]   (default 1000)
Creates the site `bench-subject`, one visitor with N messages in 10 conversations (answers
with sources) and a lead, plus 200 other visitors, then times subject_export (JSON + the
readable HTML) and subject_erase, and checks no table still holds the subject.
"""

import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")


def build(n: int):
    from django.utils import timezone

    from conversations.models import Conversation, Lead, Message, Visitor

    now = timezone.now()
    v = Visitor.objects.create(id=uuid.uuid4())
    convs = [
        Conversation.objects.create(visitor=v, start_page_url="https://b.example/")
        for _ in range(10)
    ]
    msgs = []
    for i in range(n):
        role = "visitor" if i % 2 == 0 else "assistant"
        msgs.append(
            Message(
                conversation=convs[i % 10],
                role=role,
                text=f"message {i} " + "lorem ipsum " * 20,
                sources=[{"url": "https://b.example/p", "title": "P"}]
                if role == "assistant"
                else [],
                created_at=now,
            )
        )
    Message.objects.bulk_create(msgs, batch_size=1000)
    Lead.objects.create(visitor=v, conversation=convs[0], email="subject@example.com")
    others = [Visitor(id=uuid.uuid4()) for _ in range(200)]
    Visitor.objects.bulk_create(others)
    Lead.objects.bulk_create(
        [Lead(visitor=o, email=f"o{i}@example.com") for i, o in enumerate(others)]
    )
    return v


def main(n: int) -> None:
    import django

    from cloop import embedded

    embedded.start()  # the embedded servers, unless DATABASE_URL / REDIS_URL are set
    django.setup()
    from django_tenants.utils import tenant_context

    from conversations.privacy import privacy
    from tenants.services import SiteError, base_schema_ensure, site_create, site_delete, site_get

    base_schema_ensure()
    try:
        site = site_get("bench-subject")
    except SiteError:
        site = site_create("bench-subject", name="Bench", url="https://bench.example/").site
    try:
        with tenant_context(site):
            v = build(n)
            t = time.perf_counter()
            data = privacy.subject_export(visitor_id=str(v.id))
            html = privacy.subject_export_html(data)
            export_s = time.perf_counter() - t
            count = sum(len(c["messages"]) for x in data["visitors"] for c in x["conversations"])
            assert count == n, count
            t = time.perf_counter()
            counts = privacy.subject_erase(visitor_id=str(v.id))
            erase_s = time.perf_counter() - t
            assert counts["messages"] == n
            left = privacy.schema_scan([str(v.id), "subject@example.com"])
            assert left == [], left
        print(
            f"subject with {n} messages: export (JSON+HTML, {len(html) / 1e3:.0f} kB) {export_s:.2f} s; erase {erase_s:.2f} s; scan after erase: clean"
        )
    finally:
        site_delete("bench-subject")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
