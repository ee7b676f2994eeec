"""The embedded default's shared cache: Django's database cache with an atomic incr().

Gunicorn workers are separate processes, so the Clopos token, single-flight locks and the rate
budget must live somewhere they all see. Without Redis, that is the SQLite database. Django's
DatabaseCache already makes add() atomic (SELECT + INSERT in one transaction, and SQLite runs
with transaction_mode=IMMEDIATE, so the write lock is taken first); its incr() is a plain
get-then-set, which two workers can interleave, and which resets the key's expiry to the
default timeout. Here incr() runs in the same kind of transaction and keeps the expiry, as
Redis' INCRBY does (counters such as the status panel's failure buckets rely on it).

Writes are one statement each (issue 13): Django's database cache counts the table before every
write, to decide whether to cull, then reads the row and writes it in a transaction of its own
(two SAVEPOINTs inside an outer one); a cold order page made 88 SQL statements on the embedded
profile. Here `set` and `add` are one upsert, and a process counts the table every
CULL_CHECK_EVERY writes, so the table can pass MAX_ENTRIES by that many rows per process before it
is culled as Django culls it.
"""

import base64
import contextlib
import datetime as dt
import itertools
import pickle
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import DatabaseError, connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.timezone import now as tz_now

CULL_CHECK_EVERY = 64
# The backends whose INSERT ... ON CONFLICT (key) DO UPDATE this uses; any other gets Django's writes.
UPSERT_VENDORS = ("sqlite", "postgresql")
_writes = itertools.count()  # this process's writes (next() on a count is atomic in CPython)


class SharedDatabaseCache(DatabaseCache):
    def _base_set(self, mode: str, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> bool:
        """`set` and `add` in one statement (Django's `touch` as Django does it). `key` is made."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        if mode not in ("set", "add") or connection.vendor not in UPSERT_VENDORS:
            return bool(super()._base_set(mode, key, value, timeout))  # type: ignore[misc]
        backend_timeout = self.get_backend_timeout(timeout)
        now = tz_now().replace(microsecond=0)
        # As Django's database cache computes it (no expiry: a naive datetime.max).
        expires = (
            dt.datetime.max
            if backend_timeout is None
            else dt.datetime.fromtimestamp(backend_timeout, tz=dt.UTC if settings.USE_TZ else None)
        ).replace(microsecond=0)
        table, cache_key, column, expiry = self._quoted_names(connection)
        sql = (
            f"INSERT INTO {table} ({cache_key}, {column}, {expiry}) VALUES (%s, %s, %s) "  # noqa: S608 - names quoted by the backend; values are parameters
            f"ON CONFLICT ({cache_key}) DO UPDATE SET {column} = EXCLUDED.{column}, {expiry} = EXCLUDED.{expiry}"
        )
        params = [key, self._encode(value), connection.ops.adapt_datetimefield_value(expires)]
        if mode == "add":  # a key that is there but expired is free (Django's add)
            sql += f" WHERE {table}.{expiry} < %s"
            params.append(connection.ops.adapt_datetimefield_value(now))
        with connection.cursor() as cursor:
            if next(_writes) % CULL_CHECK_EVERY == 0:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - as above
                (count,) = cursor.fetchone()
                if count > self._max_entries:
                    self._cull(db, cursor, now, count)  # type: ignore[attr-defined]
            try:
                # In an outer transaction, a failed statement aborts it on PostgreSQL, not on SQLite.
                guarded = connection.in_atomic_block and connection.vendor == "postgresql"
                with transaction.atomic(using=db) if guarded else contextlib.nullcontext():
                    cursor.execute(sql, params)
            except DatabaseError:
                return False  # as Django's: a write may fail quietly
            return mode == "set" or cursor.rowcount > 0

    def _quoted_names(self, connection: BaseDatabaseWrapper) -> tuple[str, str, str, str]:
        """The table and its key, value and expiry columns, quoted for `connection`."""
        quote = connection.ops.quote_name
        return quote(self._table), quote("cache_key"), quote("value"), quote("expires")  # type: ignore[attr-defined]

    def _encode(self, value: Any) -> str:
        # As Django's database cache stores a value: pickled, then base64 text.
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")

    @staticmethod
    def _decode(raw: Any, connection: BaseDatabaseWrapper) -> Any:
        # As Django's database cache reads a value back (`get_many`).
        return pickle.loads(base64.b64decode(connection.ops.process_clob(raw).encode(), validate=True))  # noqa: S301 - our own cache table

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """Read the value and its expiry, write the new value and leave the expiry: two
        statements in one transaction (the caller's, if it is in one)."""
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        made_key = self.make_and_validate_key(key, version=version)
        table, cache_key, column, expiry = self._quoted_names(connection)
        # SQLite's IMMEDIATE transactions take the write lock first; PostgreSQL's lock the row.
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with _transaction(db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column}, {expiry} FROM {table} WHERE {cache_key} = %s{lock}",  # noqa: S608 - as above
                [made_key],
            )
            row = cursor.fetchone()
            if row is None or _converted_datetime(row[1], connection) < tz_now():
                raise ValueError(f"Key '{key}' not found.")
            new_value: int = self._decode(row[0], connection) + delta
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE {cache_key} = %s",  # noqa: S608 - as above
                [self._encode(new_value), made_key],
            )
            return new_value

    def decr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        return self.incr(key, -delta, version=version)

    def incr_many(self, items: Mapping[str, tuple[int, int]]) -> dict[str, int]:
        """Counters by `key: (delta, ttl)`, each created with its ttl when missing; one
        transaction. The same contract as SharedRedisCache.incr_many (clopos.guard uses it)."""
        db = router.db_for_write(self.cache_model_class)
        results = {}
        with _transaction(db):
            for key, (delta, ttl) in items.items():
                if not self.add(key, delta, timeout=ttl):
                    results[key] = self.incr(key, delta)
                else:
                    results[key] = delta
        return results

    def write_many(self, incr: Mapping[str, tuple[int, int]], values: Mapping[str, tuple[Any, int]]) -> None:
        """`incr_many` and `set` for several keys, in one transaction."""
        db = router.db_for_write(self.cache_model_class)
        with _transaction(db):
            self.incr_many(incr)
            for key, (value, ttl) in values.items():
                self.set(key, value, timeout=ttl)

    def delete_if_equal(self, key: str, value: Any) -> bool:
        """Delete `key` only while it still holds `value`, in one transaction."""
        db = router.db_for_write(self.cache_model_class)
        with _transaction(db):
            if self.get(key) != value:
                return False
            return self.delete(key)

    # The same contracts as SharedRedisCache's (clopos.singleflight uses them), made of this
    # cache's own calls in turn: each is atomic already, and SQLite is in-process, so a wrapping
    # transaction would only add statements (the SAVEPOINTs of the nested ones).
    def add_and_get_many(
        self,
        key: str,
        value: Any,
        timeout: int,
        other_keys: Sequence[str],
        incr: Mapping[str, tuple[int, int]] | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        """`add(key, value, timeout)`, then, if it added, `incr_many(incr)`, then
        `get_many(other_keys)` with the counts."""
        added = self.add(key, value, timeout=timeout)
        counts = self.incr_many(incr) if added and incr else {}
        return added, self.get_many(other_keys) | counts

    def set_and_delete_if_equal(
        self,
        entry: tuple[str, Any, int | None] | None,
        key: str,
        value: Any,
        *,
        incr: Mapping[str, tuple[int, int]] | None = None,
        values: Mapping[str, tuple[Any, int]] | None = None,
    ) -> None:
        """`write_many(incr, values)` when given, `set(*entry)` unless None, then
        `delete_if_equal(key, value)`."""
        if incr or values:
            self.write_many(incr or {}, values or {})
        if entry is not None:
            self.set(entry[0], entry[1], timeout=entry[2])
        self.delete_if_equal(key, value)


def _transaction(db: str) -> Any:
    """A transaction, or the caller's if it is in one: a nested one would only add SAVEPOINT
    statements (an error inside still rolls the whole of it back, as it did with them)."""
    return contextlib.nullcontext() if connections[db].in_atomic_block else transaction.atomic(using=db)


def _converted_datetime(value: Any, connection: BaseDatabaseWrapper) -> Any:
    """A datetime column's raw value as Django's database cache converts it (text on SQLite)."""
    expression = models.Expression(output_field=models.DateTimeField())
    for converter in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
        value = converter(value, expression, connection)
    return value


class _ReusingRedisClient(RedisCacheClient):
    """Django's Redis client builds a new `redis.Redis` object for every cache call (~56 µs each
    on this machine's production profile). The object is thread-safe and holds nothing but its
    connection pool, so one per pool serves every call; redis-py's pool itself resets its
    connections in a forked worker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Private in the stubs, public enough in Django's own code (RedisCacheClient.get_client).
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class SharedRedisCache(RedisCache):
    """The production cache: Django's Redis backend, reusing its client objects, with batched
    counters and writes for the Clopos guard (one round trip instead of one per key, and no
    EXISTS before each INCRBY as Django's incr() does)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ReusingRedisClient

    def incr_many(self, items: Mapping[str, tuple[int, int]]) -> dict[str, int]:
        """Counters by `key: (delta, ttl)`: INCRBY, then EXPIRE NX so a new key gets its ttl and
        an existing one keeps its own; one pipeline. Integers are stored raw by Django's Redis
        serializer, so cache.get() reads them back."""
        pipe = self._pipeline()
        for key, (delta, ttl) in items.items():
            made = self.make_and_validate_key(key)
            pipe.incrby(made, delta)
            pipe.expire(made, max(1, int(ttl)), nx=True)
        results = pipe.execute()
        return {key: int(results[2 * index]) for index, key in enumerate(items)}

    def write_many(self, incr: Mapping[str, tuple[int, int]], values: Mapping[str, tuple[Any, int]]) -> None:
        """`incr_many` and `set` for several keys, in one pipeline."""
        pipe = self._pipeline()
        self._queue_writes(pipe, incr, values)
        pipe.execute()

    def _queue_writes(
        self, pipe: Any, incr: Mapping[str, tuple[int, int]], values: Mapping[str, tuple[Any, int]]
    ) -> None:
        for key, (delta, ttl) in incr.items():
            made = self.make_and_validate_key(key)
            pipe.incrby(made, delta)
            pipe.expire(made, max(1, int(ttl)), nx=True)
        for key, (value, ttl) in values.items():
            pipe.set(self.make_and_validate_key(key), self._dumps(value), ex=max(1, int(ttl)))

    _DELETE_IF_EQUAL = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def delete_if_equal(self, key: str, value: Any) -> bool:
        """Delete `key` only while it still holds `value` (a lock's owner token), atomically and
        in one round trip (clopos.singleflight.release)."""
        client = self._cache.get_client(write=True)
        return bool(client.eval(self._DELETE_IF_EQUAL, 1, self.make_and_validate_key(key), self._dumps(value)))

    # SET NX, and only if it set, INCRBY and EXPIRE NX per counter: the counts, or nil.
    # KEYS: the key, then the counters; ARGV: the value, its ttl, then delta and ttl per counter.
    _ADD_THEN_INCR = """
if not redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return false end
local counts = {}
for i = 2, #KEYS do
  counts[i - 1] = redis.call('incrby', KEYS[i], ARGV[2 * i - 1])
  redis.call('expire', KEYS[i], ARGV[2 * i], 'NX')
end
return counts
"""

    def add_and_get_many(
        self,
        key: str,
        value: Any,
        timeout: int,
        other_keys: Sequence[str],
        incr: Mapping[str, tuple[int, int]] | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        """`add(key, value, timeout)`, then, only if it added, `incr_many(incr)`, then
        `get_many(other_keys)` as they are after it, in one pipeline: (added, the other keys
        found, with the counts). clopos.singleflight takes a lock, reads the result it guards and
        counts its call's admission so (clopos.guard.Admission)."""
        made = {self.make_and_validate_key(other): other for other in other_keys}
        counters = {self.make_and_validate_key(counter): counter for counter in incr or {}}
        pipe = self._pipeline()
        lock_key, ttl = self.make_and_validate_key(key), max(1, int(timeout))
        if incr:
            deltas = [part for delta, span in incr.values() for part in (delta, max(1, int(span)))]
            pipe.eval(self._ADD_THEN_INCR, 1 + len(counters), lock_key, *counters, self._dumps(value), ttl, *deltas)
        else:
            pipe.set(lock_key, self._dumps(value), ex=ttl, nx=True)
        pipe.mget(list(made))
        outcome, raws = pipe.execute()
        loads = self._cache._serializer.loads  # type: ignore[attr-defined]
        found = {made[made_key]: loads(raw) for made_key, raw in zip(made, raws, strict=True) if raw is not None}
        if not incr:
            return bool(outcome), found
        if outcome is None:  # the script's false: not added, nothing counted
            return False, found
        return True, found | {counter: int(count) for counter, count in zip(counters.values(), outcome, strict=True)}

    def set_and_delete_if_equal(
        self,
        entry: tuple[str, Any, int | None] | None,
        key: str,
        value: Any,
        *,
        incr: Mapping[str, tuple[int, int]] | None = None,
        values: Mapping[str, tuple[Any, int]] | None = None,
    ) -> None:
        """`write_many(incr, values)` when given, `set(*entry)` unless None, then
        `delete_if_equal(key, value)`, in one pipeline, in that order: clopos.singleflight stores
        a result (and the writes its call held back, clopos.guard's health record) and releases
        its lock so."""
        pipe = self._pipeline()
        self._queue_writes(pipe, incr or {}, values or {})
        if entry is not None:
            entry_key, entry_value, entry_timeout = entry
            made = self.make_and_validate_key(entry_key)
            timeout = self.get_backend_timeout(entry_timeout)
            if timeout == 0:
                pipe.delete(made)  # as Django's set() does with a non-positive timeout
            else:
                pipe.set(made, self._dumps(entry_value), ex=timeout)
        pipe.eval(self._DELETE_IF_EQUAL, 1, self.make_and_validate_key(key), self._dumps(value))
        pipe.execute()

    def _dumps(self, value: Any) -> Any:
        return self._cache._serializer.dumps(value)  # type: ignore[attr-defined]

    def _pipeline(self) -> Any:
        return self._cache.get_client(write=True).pipeline(transaction=False)
