#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")
    from cloop import embedded

    # Without DATABASE_URL / REDIS_URL: start (or reuse) the embedded servers before Django
    # reads the settings, which only say where they listen. They outlive the command
    # (`make stop` stops them).
    embedded.start()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
