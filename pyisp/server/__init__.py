"""`pyisp serve`: the HTTP decision service (Starlette on uvicorn) over warm engines, with
bearer tokens and the decision register.

- `access.py`: tokens and roles, from a file or the environment; constant-time checks.
- `config.py`: the server's settings, handed to each worker process through the environment.
- `app.py`: the ASGI application: the endpoints, limits, solving in a thread off the event loop.
- `openapi.py`: the OpenAPI document, built from the case and result JSON Schemas.
- `run.py`: checks the policy and the tokens, then starts uvicorn (`--workers N`).
"""
