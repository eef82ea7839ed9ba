"""The `voltbridge` command: one sub-command per job, each in its own module."""

from voltbridge.cli.app import app, main

__all__ = ["app", "main"]
