"""The embedded default's shared cache: Django's database cache with an atomic incr().

Gunicorn workers are separate processes, so the Clopos token, single-flight locks and the rate
budget must live somewhere they all see. Without Redis, that is the SQLite database. Django's
DatabaseCache already makes add() atomic (SELECT + INSERT in one transaction, and SQLite runs
with transaction_mode=IMMEDIATE, so the write lock is taken first); its incr() is a plain
get-then-set, which two workers can interleave. Wrapping it in the same kind of transaction
makes it atomic too.
"""

from django.core.cache.backends.db import DatabaseCache
from django.db import router, transaction


class SharedDatabaseCache(DatabaseCache):
    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        with transaction.atomic(using=db):
            return super().incr(key, delta, version=version)

    def decr(self, key, delta=1, version=None):
        return self.incr(key, -delta, version=version)
