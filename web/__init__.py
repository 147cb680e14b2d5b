"""The web app (FastAPI + Jinja2, server-rendered): staff dashboard, indicators, web chat.

A thin channel like `bot/`: routes read the request, call `storage` services (which authorize
and audit) and render templates in the reader's language. `create_web_app` builds the app from
the composition root's `App`; nothing is created at import time.
"""
