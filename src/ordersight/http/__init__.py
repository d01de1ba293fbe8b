"""The HTTP layer the API and the pages share: error answers, input schemas, the request body
limit, the refusal of control characters, the ASGI handler, a list's CSV download, the
Idempotency-Key middleware. Nothing below api and web imports it; `core` is the domain's
toolbox."""
