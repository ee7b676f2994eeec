"""Clopos Open API v2: everything that talks to Clopos or remembers what it said.

A plain package, not a Django app: it imports Django's settings, cache and database connections
and nothing of this project. Import from the modules (`clopos.client`, `clopos.store`, ...);
this file stays empty so that `gunicorn.conf.py` can import `clopos.timeouts` without Django.

* timeouts: the worst-case arithmetic (pure; no Django).
* errors: the CloposError tree, each with its failure kind and HTTP status.
* types: frozen dataclasses parsed leniently from payloads.
* client: the one door to the network (requests), with the token in the shared cache.
* guard: the shared rate budget, circuit breaker and health counters.
* deadline: per-request Clopos time budget and timings.
* keys: every cache key and freshness age.
* singleflight: one worker fetches, the others wait.
* store: cached entries with fresh / stale-while-revalidate / stale-if-error.
"""
