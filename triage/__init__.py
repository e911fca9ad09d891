"""Ticket triage: prompts, the strict JSON verdict, the classifier, its offline rules,
routing and evaluation.

Platform-free by design: nothing here imports a chat platform SDK or an adapter.
"""
