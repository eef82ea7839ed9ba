"""Utility programs and grid events: event payments with baselines, capacity payments, credits,
and storm watch (announced outages). OpenADR clients that deliver events live in
``voltbridge.devices.openadr``; this room holds what an event *is* and what it is worth."""
