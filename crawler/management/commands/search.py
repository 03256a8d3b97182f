"""`manage.py search <site_id> "query"`: what the chat would retrieve for a question."""

from __future__ import annotations

from django.core.management.base import CommandError
from django_tenants.utils import tenant_context

from crawler.search import search
from tenants.management.commands._base import StaffCommand, int_between
from tenants.services import site_get_ready


class Command(StaffCommand):
    help = "Search a site's index, as the chat does before it answers."

    def add_command_arguments(self, parser):
        parser.add_argument("site_id")
        parser.add_argument("query")
        parser.add_argument(
            "--k", type=int_between(1, 50), default=5, help="number of passages (1-50)"
        )

    def run(self, **o):
        site = site_get_ready(o["site_id"])
        query = o["query"].strip()
        if not query:
            raise CommandError("the query is empty")
        with tenant_context(site):
            passages = search(query, k=o["k"])
        rows = [
            {
                "url": p.url,
                "title": p.title,
                "heading": p.heading,
                "score": p.score,
                "text": p.text,
            }
            for p in passages
        ]
        if o["json"]:
            self.emit_json(rows)
            return
        if not rows:
            self.stdout.write("No passages match.")
            return
        for i, r in enumerate(rows, 1):
            head = f" › {r['heading']}" if r["heading"] and r["heading"] != r["title"] else ""
            self.stdout.write(f"{i}. [{r['score']:.3f}] {r['title']}{head}\n   {r['url']}")
            text = r["text"].replace("\n", " ")
            self.stdout.write(f"   {text[:300]}{'…' if len(text) > 300 else ''}")
