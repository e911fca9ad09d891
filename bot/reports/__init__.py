"""Read-only reports: model spend, the leads' daily digest, the operator's ticket list."""
