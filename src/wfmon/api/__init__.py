"""The REST API, live events, auth and Prometheus metrics (see docs/api.md).

`create_api(ApiContext)` builds the FastAPI app; `api_service` serves it inside the
daemon; `wiring.attach(daemon)` and `wiring.serve(...)` are how `wfmon run` and
`wfmon serve` use it.
"""
