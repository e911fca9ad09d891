"""The leads' web dashboard: queue, tickets, transcripts, analytics and costs.

Server-rendered HTML (aiohttp + Jinja2), readable without JavaScript, charts as inline
SVG. Leads only, no passwords: a one-time login link (`supportbot web --link`, or
`/support dashboard` in chat) opens a session that sees only the workspaces its lead
leads; every form carries a CSRF token; actions go through the same desk as chat.
"""
