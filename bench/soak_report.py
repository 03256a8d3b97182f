"""The soak's verdict (which bounds broke), its JSON report, its chart and its summary table."""

from __future__ import annotations

import json
from pathlib import Path

from soak_traffic import EXPECTED_ERRORS, Stats

RSS_GROWTH_MAX = 0.10  # after warm-up (the sample at 1/6 of the run) to the end


def warmup_sample(samples: list[dict], seconds: float) -> dict | None:
    return next((s for s in samples if s["t"] >= seconds / 6), samples[0] if samples else None)


def rss_rows(samples: list[dict], seconds: float) -> list[tuple[str, float, float | None, bool]]:
    """(process, RSS at warm-up, RSS at the end or None if it was replaced, same pid)."""
    warm = warmup_sample(samples, seconds)
    if warm is None:
        return []
    last = samples[-1]["processes"]
    rows = []
    for label, st in warm["processes"].items():
        end = last.get(label)
        same = end is not None and end["pid"] == st["pid"]
        rows.append((label, st["rss_mib"], end["rss_mib"] if end else None, same))
    return rows


def pg_max(samples: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in samples:
        for role, n in s["pg"].get("by_role", {}).items():
            out[role] = max(out.get(role, 0), n)
    return out


def verdict(samples: list[dict], stats: Stats, meta: dict) -> list[str]:
    """Every bound the run broke, as one line each (empty: passed)."""
    failures = []
    if sum(stats.status_5xx.values()):
        failures.append(f"HTTP 5xx answers: {dict(stats.status_5xx)}")
    if sum(stats.http_failures.values()):
        failures.append(f"HTTP requests with no answer: {dict(stats.http_failures)}")
    unexpected = {c: n for c, n in stats.error_frames.items() if c not in EXPECTED_ERRORS}
    if unexpected:
        failures.append(f"unexpected error frames: {unexpected}")
    if sum(stats.ws_refused.values()):
        failures.append(f"WebSocket sessions refused or broken at hello: {dict(stats.ws_refused)}")
    if stats.lost:
        failures.append(f"lost messages (no answer or error within 120 s): {stats.lost}")
    bad = {k: n for k, n in stats.commands.items() if "failed" in k}
    if bad:
        failures.append(f"staff commands failed: {bad}")
    for role, n in sorted(pg_max(samples).items()):
        budget = meta["budgets"].get(role)
        if budget is not None and n > budget:
            failures.append(f"PostgreSQL connections of {role}: {n} > budget {budget}")
    probe_errors = [s["pg"]["error"] for s in samples if "error" in s["pg"]]
    if probe_errors:
        failures.append(f"PostgreSQL probe failed {len(probe_errors)} times: {probe_errors[0]}")
    for label, warm, end, same in rss_rows(samples, meta["seconds"]):
        if same and end > warm * (1 + RSS_GROWTH_MAX):
            failures.append(
                f"RSS of {label} grew {end / warm - 1:.0%} after warm-up ({warm:.0f} -> {end:.0f} MiB)"
            )
    return failures


def summary(samples: list[dict], stats: Stats, meta: dict, failures: list[str]) -> str:
    lines = [f"Soak of {meta['base_url']}: {meta['seconds'] / 60:.1f} min, scale {meta['scale']}"]
    req = ", ".join(f"{k} {n}" for k, n in sorted(stats.requests.items()))
    lines.append(f"requests served        {sum(stats.requests.values())} ({req})")
    lines.append(
        f"WebSocket sessions     {stats.ws_sessions} (refused/broken {sum(stats.ws_refused.values())})"
    )
    lines.append(
        f"messages               sent {stats.sent}, answered {stats.answered}, lost {stats.lost}"
    )
    lines.append(
        f"HTTP 5xx               {sum(stats.status_5xx.values())} {dict(stats.status_5xx) or ''}"
    )
    lines.append(f"HTTP no answer         {sum(stats.http_failures.values())}")
    expected = {c: n for c, n in stats.error_frames.items() if c in EXPECTED_ERRORS}
    unexpected = {c: n for c, n in stats.error_frames.items() if c not in EXPECTED_ERRORS}
    lines.append(f"error frames           unexpected {unexpected or 0}, expected {expected or 0}")
    lines.append(f"staff commands         {dict(stats.commands)}")
    lines.append(
        f"PostgreSQL connections (max of samples vs budget; max_connections {meta['max_connections']}):"
    )
    peak_total = max((s["pg"].get("total", 0) for s in samples), default=0)
    for role, n in sorted(pg_max(samples).items()):
        budget = meta["budgets"].get(role, "-")
        lines.append(f"  {role:<20} {n:>4} / {budget}")
    lines.append(f"  {'total':<20} {peak_total:>4}")
    files = {}
    for s in samples:
        for label, st in s["processes"].items():
            peak = max(files.get(label, (0, 0))[0], st["open_files"])
            files[label] = (peak, st["nofile_limit"])
    lines.append(
        "open files (max / limit) "
        + ", ".join(f"{k} {n}/{lim}" for k, (n, lim) in sorted(files.items()))
    )
    lines.append("RSS MiB (warm-up -> end):")
    for label, warm, end, same in rss_rows(samples, meta["seconds"]):
        end_s = f"{end:.0f}" if end is not None else "gone"
        lines.append(f"  {label:<20} {warm:>6.0f} -> {end_s}{'' if same else ' (new pid)'}")
    with_ttfd = [s for s in samples if s["ttfd_p95"] is not None]
    if with_ttfd:
        a, b = with_ttfd[0], with_ttfd[-1]
        lines.append(
            f"first delta p95        start {a['ttfd_p95']:.3f} s (t={a['t']:.0f}), end {b['ttfd_p95']:.3f} s (t={b['t']:.0f})"
        )
    lines.append("RESULT: " + ("PASS" if not failures else "FAIL"))
    lines.extend(f"  - {f}" for f in failures)
    return "\n".join(lines)


def report_write(
    out: Path, samples: list[dict], stats: Stats, meta: dict, failures: list[str]
) -> None:
    text = summary(samples, stats, meta, failures)
    print(text, flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "meta": meta,
        "failures": failures,
        "summary": {
            "requests": dict(stats.requests),
            "http_5xx": dict(stats.status_5xx),
            "http_failures": dict(stats.http_failures),
            "ws_sessions": stats.ws_sessions,
            "ws_refused": dict(stats.ws_refused),
            "error_frames": dict(stats.error_frames),
            "sent": stats.sent,
            "answered": stats.answered,
            "lost": stats.lost,
            "commands": dict(stats.commands),
            "paths": dict(sorted(stats.paths.items())),
            "pg_max": pg_max(samples),
            "rss": [
                {"process": lbl, "warmup_mib": w, "end_mib": e, "same_pid": same}
                for lbl, w, e, same in rss_rows(samples, meta["seconds"])
            ],
            "examples": stats.examples,
            "table": text,
        },
        "samples": samples,
    }
    out.with_suffix(".json").write_text(json.dumps(report, indent=1))
    print(f"[soak] wrote {out.with_suffix('.json')}", flush=True)
    try:
        import matplotlib  # noqa: F401  (the bench extra: pip install -e '.[bench]')
    except ImportError:
        # The figures are in the JSON and the table; the chart is a convenience that must
        # not turn a finished soak into a traceback.
        print("[soak] no chart: matplotlib is in the bench extra (pip install -e '.[bench]')")
        return
    chart(out.with_suffix(".png"), samples, meta)
    print(f"[soak] wrote {out.with_suffix('.png')}", flush=True)


def chart(path: Path, samples: list[dict], meta: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s["t"] / 60 for s in samples]
    fig, ax = plt.subplots(4, 2, figsize=(13, 14), sharex=True)
    ax = ax.ravel()
    roles = sorted({r for s in samples for r in s["pg"].get("by_role", {})})
    for role in roles:
        ys = [s["pg"].get("by_role", {}).get(role, 0) for s in samples]
        (line,) = ax[0].plot(t, ys, label=role)
        if role in meta["budgets"]:
            ax[0].axhline(meta["budgets"][role], color=line.get_color(), ls=":", lw=1)
    ax[0].plot(t, [s["pg"].get("total", 0) for s in samples], "k--", lw=1, label="total")
    ax[0].set_title(
        f"PostgreSQL connections (dotted: budgets; max_connections {meta['max_connections']})"
    )
    labels = sorted({lbl for s in samples for lbl in s["processes"]})
    for lbl in labels:
        ax[1].plot(t, [s["processes"].get(lbl, {}).get("rss_mib") for s in samples], label=lbl)
        ax[2].plot(t, [s["processes"].get(lbl, {}).get("open_files") for s in samples], label=lbl)
    ax[1].set_title("RSS per process (MiB)")
    ax[2].set_title("open files per process")
    ax[3].plot(t, [s["redis_clients"] for s in samples], label="Redis clients")
    ax[3].set_title("Redis connected clients")
    ax[6].plot(t, [s["ws_open"] for s in samples], label="open now")
    ax[6].plot(t, [s["ws_sessions"] for s in samples], label="sessions (cumulative)")
    ax[6].set_title("WebSockets")
    ax[7].plot(t, [s["requests"] for s in samples], label="HTTP requests")
    ax[7].plot(t, [s["sent"] for s in samples], label="messages sent")
    ax[7].plot(t, [s["answered"] for s in samples], label="answers received")
    ax[7].set_title("traffic (cumulative)")
    ax[4].plot(t, [s["ttfd_p50"] for s in samples], label="p50")
    ax[4].plot(t, [s["ttfd_p95"] for s in samples], label="p95")
    ax[4].set_title("time to first delta per 10 s window (s)")
    ax[5].plot(t, [s["http_5xx"] for s in samples], label="HTTP 5xx")
    ax[5].plot(t, [s["http_failures"] for s in samples], label="HTTP no answer")
    ax[5].plot(
        t,
        [sum(n for c, n in s["error_frames"].items() if c not in EXPECTED_ERRORS) for s in samples],
        label="unexpected error frames",
    )
    ax[5].plot(t, [s["lost"] for s in samples], label="lost messages")
    ax[5].set_title("failures (cumulative)")
    for a in ax:
        a.legend(fontsize=7, loc="upper left")
        a.grid(alpha=0.3)
    for a in ax[6:]:
        a.set_xlabel("minutes")
    fig.suptitle(f"Cloop soak, {meta['seconds'] / 60:.1f} min, scale {meta['scale']}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
