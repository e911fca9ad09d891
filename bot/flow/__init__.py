"""The support flow: the service (event kind -> handler), the new-message steps,
replies, answers, summaries, limits, and `copy` (every sentence a user reads)."""
