"""The delivery pipeline: intake (clean, redact, accept), inbox, worker, outbox, keys.

It moves events in and replies out, exactly once, and knows nothing of tickets.
"""
