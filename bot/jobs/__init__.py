"""Periodic jobs: the scheduler (one run per period, one error path) and one module per job."""

from __future__ import annotations

from bot.jobs.digest import DIGEST
from bot.jobs.kb_refresh import KB_REFRESH
from bot.jobs.retention import RETENTION
from bot.jobs.scheduler import Job
from bot.jobs.sla_reminders import SLA_REMINDERS
from bot.jobs.stale import STALE_TICKETS

__all__ = ["ALL_JOBS"]

ALL_JOBS: tuple[Job, ...] = (SLA_REMINDERS, STALE_TICKETS, DIGEST, RETENTION, KB_REFRESH)
"""Every job the bot runs, for the wiring to schedule."""
