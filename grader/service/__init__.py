"""`grader serve`: the grading service for a platform, over HTTP.

One module, one job:

    settings    grader.yaml's `service` section, the tokens and the webhook secret, and
                where the service may listen
    api         the OpenAPI document (grader/schemas/openapi.json): served self-contained,
                and the source of every request and response shape
    problems    errors as RFC 9457 problem documents
    auth        bearer tokens (constant-time), scopes, per-token quotas
    store       the SQLite database (WAL): gradings, idempotency keys, webhook outbox, retention
    engine      THE SEAM between the service and grading: what the service needs of an
                engine, and the one engine (warm workers; a fresh sandbox each without bwrap)
    stock       case sets (cases, the reference's outputs, the encoded request) prepared ahead
                of demand, a small bounded stock per task
    dispatcher  the bounded priority queue in front of the engine (interactive first)
    webhooks    signed callbacks (Standard Webhooks), retried from the outbox
    metrics     the Prometheus metrics
    lifecycle   start-up (recovery, self-tests), readiness, drain and stop
    pages       what a browser gets: a grading's feedback page, the practice page (practice/)
                and the headers that keep them safe
    app         the HTTP routes (Starlette)
    server      uvicorn, with SIGTERM turned into a drain

Nothing here runs student code: every grading goes through the engine's sandbox, with the
guarantees of `grader grade`. Nothing here is imported by `grader grade`.
"""
