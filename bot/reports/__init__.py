"""Read-only reports: model spend, the leads' daily digest, the operator's ticket list,
what a support lead measures (`outcomes`) and what the docs could not answer (`gaps`)."""
