"""Median time to create a site: `manage.py create_site` end to end, and `site_create` alone.

Usage: .venv/bin/python bench/create_site.py [N]   (default 10; uses the embedded servers
unless DATABASE_URL is set). The sites it creates are deleted afterwards.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")


def main(n: int) -> None:
    import django

    from cloop import embedded

    embedded.start()  # the embedded servers, unless DATABASE_URL / REDIS_URL are set
    django.setup()
    from tenants.services import base_schema_ensure, site_create, site_delete

    base_schema_ensure()
    cli, inproc = [], []
    for i in range(n):
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "create_site",
                f"bench-cli-{i}",
                "--name",
                "Bench",
                "--url",
                "https://bench.example/",
            ],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cli.append(time.perf_counter() - t)
        t = time.perf_counter()
        site_create(f"bench-fn-{i}", name="Bench", url="https://bench.example/")
        inproc.append(time.perf_counter() - t)
    for i in range(n):
        site_delete(f"bench-cli-{i}")
        site_delete(f"bench-fn-{i}")
    print(
        f"create_site command (process start included), median of {n}: {statistics.median(cli):.3f} s "
        f"(min {min(cli):.3f}, max {max(cli):.3f})"
    )
    print(
        f"site_create() in process, median of {n}: {statistics.median(inproc):.3f} s "
        f"(min {min(inproc):.3f}, max {max(inproc):.3f})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
