"""Visitors, conversations, messages, phases, leads, data-subject requests; answers via litellm."""

import os

# litellm fetches its model price list from GitHub at import time unless told not to; Cloop
# must start (and run its tests) without internet access, so use the bundled copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
