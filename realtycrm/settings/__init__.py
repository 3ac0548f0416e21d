"""Settings, read from the environment (12-factor).

- ``base``: everything shared; every value that differs between machines comes from an env var.
- ``dev``: the default for ``manage.py``; needs no configuration at all.
- ``test``: in-memory providers, synchronous tasks, fast password hashing.
- ``production``: what ``wsgi.py`` uses; refuses to start without a secret key, hosts and a
  shared cache, and passes ``manage.py check --deploy`` with no warnings.
"""
