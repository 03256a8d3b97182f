"""URL traps: URL spaces a site generates without end, recognised by what makes them endless.

A trap is not "many URLs of one shape" (300 release notes, 2,000 products are real pages;
the page budget bounds a crawl anyway) but a URL space that grows without new content:

- `URL too long`, `unbounded depth`: a path that keeps growing (relative links that append a
  segment on every page);
- `repeating path segments`: the same segment again and again (`/a/b/a/b/a/b`);
- `too many query parameters`, `query-parameter permutations`: filters, sorts and facets
  combined in ever more ways on one page;
- `calendar`: a date in the URL that runs far into the future, or one page shown for
  ever more dates (previous/next links of a calendar).

`TrapGuard.rule_for(url)` applies the rules that need no memory (also to redirect targets
and canonicals); `TrapGuard.admit(url)` applies those that count what the crawl has scheduled
so far. Its counters are saved with the frontier (`state()`) and restored on resume, so a
resumed crawl keeps the limits of the run it continues. Pure Python, no I/O.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

URL_TOO_LONG = "URL too long"
UNBOUNDED_DEPTH = "unbounded depth"
REPEATING_SEGMENTS = "repeating path segments"
TOO_MANY_PARAMS = "too many query parameters"
PARAM_PERMUTATIONS = "query-parameter permutations"
CALENDAR = "calendar"
RULES = (
    URL_TOO_LONG,
    UNBOUNDED_DEPTH,
    REPEATING_SEGMENTS,
    TOO_MANY_PARAMS,
    PARAM_PERMUTATIONS,
    CALENDAR,
)

# A date in a path: 2026-12-02, 2026/12/02, 2026_12, 2026.12 (a separator is required:
# 8-digit product numbers are not dates). Years 1000-2999.
_PATH_DATE = re.compile(
    r"(?<![0-9])([12][0-9]{3})([-/_.])(0?[1-9]|1[0-2])(?:\2(0?[1-9]|[12][0-9]|3[01]))?(?![0-9])"
)
# A date in a query value: with separators under any name; compact (20261202, 202612) only
# under a name that says date (?id=20150312 is a product number).
_VALUE_DATE = re.compile(
    r"^([12][0-9]{3})([-/_.])(0?[1-9]|1[0-2])(?:\2(0?[1-9]|[12][0-9]|3[01]))?$"
)
_COMPACT_DATE = re.compile(r"^([12][0-9]{3})(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])?$")
_DATE_NAME = re.compile(r"date|day|month|week|cal|from|until|since|start|end|when", re.I)
# Query parameters that carry a part of a date each (?year=2026&month=12).
_DATE_KEYS = {"year": 0, "yr": 0, "y": 0, "month": 1, "mon": 1, "m": 1, "day": 2, "d": 2}


@dataclass
class TrapLimits:
    max_url_length: int = 1000
    max_depth: int = 15
    # A path segment seen this many times in one path.
    max_repeats: int = 3
    max_params: int = 6
    # Distinct sets of query-parameter names on one path.
    max_param_sets: int = 30
    # Dates later than this many days after today are calendar pages nobody wrote.
    future_days: int = 2 * 366
    # Distinct dates of one page (its URL with the dates taken out).
    max_dates_per_page: int = 200


def _dates(url: str) -> tuple[str, list[datetime.date]]:
    """(the URL with its dates replaced by `{date}`, the dates); ("", []) without one."""
    p = urlsplit(url)
    found: list[datetime.date] = []

    def path_date(m: re.Match) -> str:
        found.append(_date(m.group(1), m.group(3), m.group(4)))
        return "{date}"

    path = _PATH_DATE.sub(path_date, p.path)
    query = []
    parts = [0, 0, 0]
    for key, value in parse_qsl(p.query, keep_blank_values=True):
        m = _VALUE_DATE.match(value)
        c = _COMPACT_DATE.match(value) if _DATE_NAME.search(key) else None
        if m or c:
            found.append(_date(m[1], m[3], m[4]) if m else _date(c[1], c[2], c[3]))
            query.append((key, "{date}"))
        elif key.lower() in _DATE_KEYS and value.isdigit() and len(value) <= 4:
            parts[_DATE_KEYS[key.lower()]] = int(value)
            query.append((key, "{date}"))
        else:
            query.append((key, value))
    if parts[0]:
        found.append(_date(str(parts[0]), str(parts[1] or 1), str(parts[2] or 1)))
    if not found:
        return "", []
    shape = f"{p.netloc}{path}?{'&'.join(f'{k}={v}' for k, v in query)}"
    return shape, found


def _date(year: str, month: str | None, day: str | None) -> datetime.date:
    y, m, d = int(year), int(month or 1), int(day or 1)
    try:
        return datetime.date(y, max(1, min(m, 12)), d)
    except ValueError:  # 2026-02-31: as good as the last day of the month
        return datetime.date(y, max(1, min(m, 12)), 28)


class TrapGuard:
    def __init__(
        self,
        limits: TrapLimits | None = None,
        state: dict | None = None,
        today: datetime.date | None = None,
    ):
        self.limits = limits or TrapLimits()
        self.today = today or datetime.date.today()
        state = state or {}
        # path -> distinct sorted parameter-name sets seen on it
        self.param_sets: dict[str, set[str]] = {
            k: set(v) for k, v in state.get("param_sets", {}).items()
        }
        # URL with its dates taken out -> number of distinct dates admitted
        self.dates: dict[str, int] = dict(state.get("dates", {}))

    def state(self) -> dict:
        """The counters, JSON-ready (saved with the frontier, given back on resume)."""
        return {
            "param_sets": {k: sorted(v) for k, v in self.param_sets.items()},
            "dates": dict(self.dates),
        }

    def rule_for(self, url: str) -> tuple[str, str]:
        """(rule, detail) when `url` is a trap by its own shape, else ("", "")."""
        lim = self.limits
        if len(url) > lim.max_url_length:
            return URL_TOO_LONG, f"{len(url)} characters (at most {lim.max_url_length})"
        p = urlsplit(url)
        segs = [s for s in p.path.split("/") if s]
        if len(segs) > lim.max_depth:
            return UNBOUNDED_DEPTH, f"{len(segs)} path segments (at most {lim.max_depth})"
        for s in set(segs):
            if segs.count(s) >= lim.max_repeats:
                return REPEATING_SEGMENTS, f"{s!r} {segs.count(s)} times in the path"
        n = len(parse_qsl(p.query, keep_blank_values=True))
        if n > lim.max_params:
            return TOO_MANY_PARAMS, f"{n} query parameters (at most {lim.max_params})"
        _shape, dates = _dates(url)
        horizon = self.today + datetime.timedelta(days=lim.future_days)
        late = [d for d in dates if d > horizon]
        if late:
            return CALENDAR, f"date {late[0].isoformat()} is more than {lim.future_days} days ahead"
        return "", ""

    def admit(self, url: str) -> tuple[str, str]:
        """Count `url` as scheduled, or say which rule refuses it (then nothing is counted).

        Call once per distinct URL the crawl would schedule (after `rule_for`).
        """
        lim = self.limits
        p = urlsplit(url)
        key_path = f"{p.netloc}{p.path}"
        names = ""
        if p.query:
            names = "&".join(sorted({k for k, _ in parse_qsl(p.query, keep_blank_values=True)}))
            known = self.param_sets.get(key_path, set())
            if names not in known and len(known) >= lim.max_param_sets:
                return PARAM_PERMUTATIONS, (
                    f"more than {lim.max_param_sets} combinations of query parameters on {p.path}"
                )
        shape, dates = _dates(url)
        if dates:
            if self.dates.get(shape, 0) >= lim.max_dates_per_page:
                return CALENDAR, f"more than {lim.max_dates_per_page} dates of {shape}"
            self.dates[shape] = self.dates.get(shape, 0) + 1
        if p.query:
            self.param_sets.setdefault(key_path, set()).add(names)
        return "", ""
