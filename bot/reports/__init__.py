"""Read-only reports: model spend, and the leads' daily digest."""
