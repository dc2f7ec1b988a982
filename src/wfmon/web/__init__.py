"""The web dashboard: server-rendered pages, small ES modules, plotly.js from the wheel.

`wfmon.web.pages.router(services)` is included by `wfmon.api.app.create_api`.
"""
