"""Hypothesis profiles: the suite is deterministic by default, so CI never fails on a random draw
that a re-run would not see; ``HYPOTHESIS_PROFILE=explore`` draws new random examples (and more
of them) to look for new failures, whose seed and blob hypothesis prints for a fixed test."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("default", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=500, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
