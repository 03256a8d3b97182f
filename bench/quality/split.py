"""The fixed split of each corpus's questions into a tuning part and a held-out part.

Usage: python bench/quality/split.py
Reads the questions of every corpus (from the <corpus>.tuning.json and <corpus>.heldout.json
written before, or on the first run from the plain lists it was written from) and writes
the two parts again. The split is random but fixed: each corpus's answerable questions and
its out-of-scope questions are shuffled apart with `random.Random("<corpus>-split-2026")`
and the first half (rounded up) of each is held out. Re-running it gives the same files.

The held-out parts were committed before any change tuned on the tuning parts; nothing may
be tuned on them (see docs/quality.md).
"""

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
CORPORA = ("demo", "dental", "flask")
SEED = "{}-split-2026"


def load(corpus: str) -> tuple[list[dict], list[dict]]:
    parts = [HERE / f"{corpus}.{p}.json" for p in ("tuning", "heldout")]
    if all(p.exists() for p in parts):
        answerable, oos = [], []
        for p in parts:
            data = json.loads(p.read_text())
            answerable += data["answerable"]
            oos += data["out_of_scope"]
        key = lambda item: int(item["id"].split("-")[-1])  # noqa: E731
        return sorted(answerable, key=key), sorted(oos, key=key)
    answerable, oos = [], []
    for line in (HERE / f"{corpus}_all.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        q, pages, fact = (x.strip() for x in line.split("|"))
        answerable.append({"q": q, "pages": pages.split(","), "fact": fact})
    for line in (HERE / f"{corpus}_oos.txt").read_text().splitlines():
        if line.strip():
            oos.append({"q": line.strip()})
    for i, item in enumerate(answerable, 1):
        item["id"] = f"{corpus}-a-{i}"
    for i, item in enumerate(oos, 1):
        item["id"] = f"{corpus}-o-{i}"
    return answerable, oos


def halves(items: list[dict], rng: random.Random) -> tuple[list[dict], list[dict]]:
    order = list(range(len(items)))
    rng.shuffle(order)
    cut = (len(items) + 1) // 2
    held = sorted(order[:cut])
    return [items[i] for i in held], [items[i] for i in sorted(order[cut:])]


def main() -> None:
    for corpus in CORPORA:
        answerable, oos = load(corpus)
        rng = random.Random(SEED.format(corpus))
        held_a, tune_a = halves(answerable, rng)
        held_o, tune_o = halves(oos, rng)
        for part, a, o in (("heldout", held_a, held_o), ("tuning", tune_a, tune_o)):
            data = {"corpus": corpus, "part": part, "answerable": a, "out_of_scope": o}
            (HERE / f"{corpus}.{part}.json").write_text(
                json.dumps(data, indent=1, ensure_ascii=False) + "\n"
            )
        print(
            f"{corpus}: held out {len(held_a)} answerable + {len(held_o)} out of scope; "
            f"tuning {len(tune_a)} + {len(tune_o)}"
        )


if __name__ == "__main__":
    main()
