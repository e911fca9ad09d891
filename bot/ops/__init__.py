"""Running it: logs, metrics, redaction of personal data and secrets, the doctor."""
