"""Settings for bench/cluster.py's beat: Cloop's, with every scheduled entry due every
CLOOP_BENCH_BEAT_SECONDS (default 20) so one tick can be watched and counted."""

import os

from cloop.settings import *  # noqa: F403
from cloop.settings import CELERY_BEAT_SCHEDULE

CELERY_BEAT_SCHEDULE = {
    name: {**entry, "schedule": float(os.environ.get("CLOOP_BENCH_BEAT_SECONDS", "20"))}
    for name, entry in CELERY_BEAT_SCHEDULE.items()
}
