"""Realistic question and answer text for seeding and load."""

from __future__ import annotations

import random

SUBJECTS = [
    "the iOS SDK",
    "the Android SDK",
    "the billing export",
    "single sign-on",
    "the webhook retries",
    "the REST API",
    "push notifications",
    "the React Native bridge",
    "the offline cache",
    "OAuth token refresh",
    "the CSV import",
    "invoice PDFs",
    "the audit log",
    "rate limiting",
    "the Kotlin coroutines wrapper",
]
SYMPTOMS = [
    "crashes on launch",
    "returns a 500 error",
    "times out after 30 seconds",
    "drops events under load",
    "shows the wrong currency",
    "logs users out every hour",
    "duplicates records",
    "fails with a certificate error",
    "leaks memory in the background",
    "ignores the proxy settings",
    "rejects valid signatures",
    "hangs at 99%",
]
CONTEXTS = [
    "since upgrading to 4.2",
    "only on Android 14",
    "for customers in the EU region",
    "when the device is offline",
    "after the nightly deploy",
    "with more than 10k rows",
    "behind a corporate proxy",
    "on the staging tenant",
    "for one enterprise customer",
    "intermittently, about once a day",
]
FIXES = [
    "Upgrade to 4.2.3, which fixes the race in the token refresh.",
    "Set the timeout to 120 seconds in the client configuration and retry with backoff.",
    "The proxy must allow the websocket upgrade; add the host to the allowlist.",
    "Clear the offline cache after migration; the schema changed in 4.0.",
    "It is a known bug in the export; use the API endpoint with pagination meanwhile.",
    "Rotate the signing secret and make sure the clock skew is under five minutes.",
    "Enable the legacy currency flag on the tenant; the default changed last release.",
]


OPENERS = [
    "Customer reports {s} {y} {c}. Any idea why?",
    "{S} {y} {c} - is this known?",
    "Acme Corp says {s} {y} {c}; they need a workaround today.",
    "Why does {s} {y} {c}?",
    "Ticket 4411: {s} {y} {c}. Logs attached in the ticket.",
    "Big prospect in trial: {s} {y} {c}. Who can help?",
]


def question(rng: random.Random) -> str:
    subject = rng.choice(SUBJECTS)
    return rng.choice(OPENERS).format(
        s=subject, S=subject[0].upper() + subject[1:], y=rng.choice(SYMPTOMS), c=rng.choice(CONTEXTS)
    )


def answer(rng: random.Random) -> str:
    return f"{rng.choice(FIXES)} {rng.choice(FIXES)}"
