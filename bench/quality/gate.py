"""The check before the call when a real LLM is configured: which questions reach the model.

Usage: .venv/bin/python bench/quality/gate.py [--corpus demo|dental|flask] [--grid]

With a real model (any CLOOP_LLM_MODEL but the offline answerer) the model decides whether
the passages answer (prompt rule 4, NO_ANSWER); before the call Cloop refuses only what
`conversations.chat.answer.model_gate_refused` stops: retrieval found nothing, or the passages
share less than CLOOP_MODEL_COVERAGE_MIN of the question's words. This bench runs the answer
path's own retrieval (`answer._retrieve`, k = 5, lexical: no embedding model) and that
function on every question of the spent question sets (bench/answer_quality.py's corpora and
parts: tuning, held-out, held-out 2 and 3, and the demo's legacy set), and prints per corpus
and part the answerable questions that reach the model and the out-of-scope ones stopped
before the call. `--grid` adds the pooled figures for CLOOP_MODEL_COVERAGE_MIN 0 to 0.5.
The value was chosen on the spent parts (SPENT) only; a part not yet spent (a fresh held-out
set) is run only with `--fresh`, printed on its own rows and never pooled or in the grid.

No model is called: what the model then answers or refuses cannot be measured here.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from answer_quality import CORPORA, PARTS, corpus_site, question_sets  # noqa: E402 - needs the path

GRID = [x / 20 for x in range(0, 11)]
LEGACY = "in-sample (legacy demo_eval)"
# The question files already used for decisions (docs/quality.md), by file part.
SPENT = {"tuning", "heldout", "heldout2", "heldout3"}
SPENT_LABELS = {label for part, label in PARTS if part in SPENT}


def retrieved(site, items: list[dict]) -> list[tuple]:
    """(question, passages, language, synonyms) per item, as answer_question retrieves them."""
    from conversations.chat.answer import _retrieve, custom_answer_first
    from conversations.chat.text import language_detect

    out = []
    for item in items:
        q = item["q"]
        language = language_detect(q, getattr(site, "language", "en"))
        passages, _, synonyms, corrected = _retrieve(site, q, None, 5, language)
        out.append(
            (
                corrected,
                custom_answer_first(corrected, passages, language, synonyms),
                language,
                synonyms,
            )
        )
    return out


def stopped(rows: list[tuple], minimum: float | None = None) -> int:
    """How many of `rows` model_gate_refused stops (at CLOOP_MODEL_COVERAGE_MIN = minimum)."""
    from django.conf import settings
    from django.test import override_settings

    from conversations.chat.answer import coverage_measure, model_gate_refused

    value = settings.CLOOP_MODEL_COVERAGE_MIN if minimum is None else minimum
    with override_settings(CLOOP_MODEL_COVERAGE_MIN=value):
        return sum(model_gate_refused(coverage_measure(*row)) for row in rows)


def share(n: int, total: int) -> str:
    return f"{n}/{total} ({n / max(1, total):.0%})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", choices=CORPORA, action="append")
    ap.add_argument("--grid", action="store_true", help="pooled figures for 0 to 0.5")
    ap.add_argument("--fresh", action="store_true", help="also run parts not yet spent")
    args = ap.parse_args()
    import django

    from cloop import embedded

    embedded.start()
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate_platform", verbosity=0)
    parts = []  # (corpus, part, answerable rows, out-of-scope rows)
    for corpus in args.corpus or CORPORA:
        with corpus_site(corpus) as (site, _base):
            for label, data in question_sets(corpus):
                if label not in SPENT_LABELS | {LEGACY} and not args.fresh:
                    continue
                ans = retrieved(site, data["answerable"])
                oos = retrieved(site, data["out_of_scope"])
                parts.append((corpus, label, ans, oos))
    minimum = settings.CLOOP_MODEL_COVERAGE_MIN
    print(f"\nCLOOP_MODEL_COVERAGE_MIN = {minimum}")
    print(
        "| corpus | part | answerable reaching the model | of them, nothing retrieved stops | "
        "out of scope stopped before the call |"
    )
    print("|---|---|---|---|---|")
    pooled = [0, 0, 0, 0]
    for corpus, label, ans, oos in parts:
        reach = len(ans) - stopped(ans)
        empty = sum(not row[1] for row in ans)
        stop = stopped(oos)
        print(
            f"| {corpus} | {label} | {share(reach, len(ans))} | {empty} | {share(stop, len(oos))} |"
        )
        if label in SPENT_LABELS:
            pooled = [
                pooled[0] + reach,
                pooled[1] + len(ans),
                pooled[2] + stop,
                pooled[3] + len(oos),
            ]
    print(
        f"| **pooled** (all but legacy) | | {share(pooled[0], pooled[1])} | | "
        f"{share(pooled[2], pooled[3])} |"
    )
    if args.grid:
        ans = [r for _, label, a, _ in parts if label in SPENT_LABELS for r in a]
        oos = [r for _, label, _, o in parts if label in SPENT_LABELS for r in o]
        print(
            f"\npooled over {len(ans)} answerable, {len(oos)} out of scope (spent parts, no legacy)"
        )
        print("CLOOP_MODEL_COVERAGE_MIN  answerable reaching the model  out of scope stopped")
        for t in GRID:
            reach = len(ans) - stopped(ans, t)
            print(
                f"{t:24.2f}  {share(reach, len(ans)):>29}  {share(stopped(oos, t), len(oos)):>20}"
            )


if __name__ == "__main__":
    main()
