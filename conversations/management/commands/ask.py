"""`manage.py ask <site_id> "question" [--json]`: ask a site's bot from the terminal.

Prints the answer with its [n] markers numbered as the sources listed under it.

Uses the same pipeline as the chat (`conversations.chat.answer.answer_question`); stores nothing.
"""

from __future__ import annotations

import asyncio

from django.core.management.base import CommandError

from conversations.chat.answer import answer_question
from conversations.chat.phases import phase_after_answer
from conversations.models import Phase
from tenants.management.commands._base import StaffCommand
from tenants.services import site_get_ready


class Command(StaffCommand):
    help = "Ask a site's chat bot a question (--json for machine output)."

    def add_command_arguments(self, parser):
        parser.add_argument("site_id")
        parser.add_argument("question")
        parser.add_argument("--model", default=None, help="litellm model name for this call")

    def run(self, **o):
        site = site_get_ready(o["site_id"])
        question = o["question"].strip()
        if not question:
            raise CommandError("the question is empty")
        as_json = o.get("json")
        # Not streamed: the model's raw [n] are passage numbers, renumbered only once the
        # answer is complete (citations_resolve), so the printed answer and its numbered
        # sources below agree.
        result = asyncio.run(answer_question(question, site=site, model=o.get("model")))
        if result.error:
            raise CommandError(f"{result.error}: {result.error_message}")
        # As the chat would move a new conversation on this answer (nothing is stored).
        phase = phase_after_answer(
            question=question,
            language=result.language,
            current=Phase.EXPLORING,
            answered_before=0,
            refused=result.refused,
            failed=False,
            has_lead=False,
        ).phase
        data = {
            "answer": result.text,
            "sources": result.sources,
            "refused": result.refused,
            "phase": phase,
        }
        if as_json:
            self.emit_json(data)
            return
        self.stdout.write(result.text)
        for n, s in enumerate(result.sources, start=1):
            self.stdout.write(f"  [{n}] {s['title']} — {s['url']}")
        if result.refused:
            self.stdout.write("(refused: the site's content does not cover this question)")
        self.stdout.write(f"phase: {phase}")
