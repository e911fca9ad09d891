"""Tickets: status (the only writer of status), SLA, queries, cards, verdicts, erasure."""
