"""The HTTP edge: error answers, request validation and bounded JSON, CORS, request log,
health, code-system routes, and the per-request memory and GC care."""
