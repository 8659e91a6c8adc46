"""Shared test configuration: the Hypothesis profiles.

In CI (the ``CI`` environment variable set to a truthy value, as .ci/run and most CI services
do) property tests are derandomised: every run draws the same examples, so a red build is
reproducible and a green one is not luck. Locally the default profile explores new examples
each run. ``HYPOTHESIS_PROFILE`` picks a profile by name either way.
"""

from __future__ import annotations

import os

from envflags import flag
from hypothesis import settings

# derandomize: examples come from a fixed seed derived from each test; database=None so that a
# failure remembered from an earlier run cannot change what CI draws.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev")

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if flag("CI") else "dev"))
