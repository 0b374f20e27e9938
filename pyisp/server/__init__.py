"""`pyisp serve`: the HTTP decision service (Starlette on uvicorn) over warm engines, with
bearer tokens and the decision register.

- `access.py`: tokens and roles, from a file or the environment; constant-time checks.
- `config.py`: the server's settings.
- `app.py`: the ASGI application (the acceptor): the endpoints, limits, the register's writer.
- `solvers.py`: the solver processes, warm, each job to the first free one over a pipe.
- `jobs.py`: what a solver does with a job (a case to answer, explain, record): data in, data out.
- `openapi.py`: the OpenAPI document, built from the case and result JSON Schemas.
- `run.py`: checks the policy and the tokens, starts the `--solvers N`, then uvicorn (one process).
"""
