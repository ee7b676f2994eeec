"""Cached Clopos records: fresh, stale-while-revalidate, stale-if-error, single-flight.

A `Source` names one record: its cache key, how to fetch it, how to parse it and its ages. The
cache holds the raw payload (serialised: `pack`) with when it was fetched (an `Entry`); payloads
are parsed before they are stored, so one that breaks the parser is an error and never cached. `Entry.read` is
the one reader of entries: anything of another shape (another version of this code) is a miss.
Each process keeps the records it parsed, per fetch (`_parsed`), so a warm page does not parse
the same payload again.
"""

from __future__ import annotations

import datetime as dt
import logging
import pickle
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import db
from django.core.cache import cache

from . import deadline, keys, singleflight
from .client import get_clopos_client
from .errors import CloposError, CloposNotFoundError

logger = logging.getLogger("clopos.store")


@dataclass(frozen=True, slots=True)
class Entry:
    payload: Any
    fetched_at: float
    fresh_until: float
    stale_until: float
    # Which fetch this is, for what is kept derived from it (rendered fragments): unlike the
    # time, never the same for two fetches, even under a frozen clock.
    version: str = ""

    @classmethod
    def read(cls, raw: Any) -> Entry | None:
        """The entry in a raw cache value, or None when missing or of another shape."""
        if not isinstance(raw, Mapping) or "payload" not in raw:
            return None
        times = (raw.get("fetched_at"), raw.get("fresh_until"), raw.get("stale_until"))
        if not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in times):
            return None
        fetched_at, fresh_until, stale_until = (float(value) for value in times)  # type: ignore[arg-type]
        version = raw.get("version")
        if not isinstance(version, str) or not version:
            version = repr(fetched_at)  # an entry cached before versions had one: its fetch time
        return cls(raw["payload"], fetched_at, fresh_until, stale_until, version)

    def as_cached(self) -> dict[str, Any]:
        return {
            "payload": pack(self.payload),
            "fetched_at": self.fetched_at,
            "fresh_until": self.fresh_until,
            "stale_until": self.stale_until,
            "version": self.version,
        }


# The payload goes into the cache already serialised (bytes). Reading the entry then copies the
# bytes instead of rebuilding every dict of a 50-order list page, and a process that parsed this
# fetch before (`_parsed`) never unpacks them: that unpickling was a fifth of a warm list page
# (issue 13). A Clopos payload is JSON, never bytes, so bytes can only be a packed payload.
def pack(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(payload: Any) -> Any:
    """The payload as Clopos sent it (an entry cached before packing holds it as it is)."""
    return pickle.loads(payload) if isinstance(payload, bytes) else payload  # noqa: S301 - our own cache value


@dataclass(frozen=True, slots=True)
class Freshness:
    fetched_at: dt.datetime
    # "live": fetched from Clopos for this request; "cached": served from the cache while fresh;
    # "revalidating": past its fresh age, served while a background refresh runs;
    # "stale": an older copy served because Clopos failed (see `error`).
    source: str
    error: CloposError | None = None
    version: str = ""  # Entry.version

    @property
    def is_stale(self) -> bool:
        return self.source == "stale"


@dataclass(frozen=True, slots=True)
class Loaded[T]:
    value: T
    freshness: Freshness


@dataclass(frozen=True, slots=True)
class Source[T]:
    """One cacheable Clopos record."""

    key: str
    fetch: Callable[[], Any]
    parse: Callable[[Any], T]
    ages: Callable[[T], keys.Ages]


MISSING: Any = object()


def load[T](source: Source[T], *, refresh: bool = False, seen: Any = MISSING, allow_stale: bool = True) -> Loaded[T]:
    """Fresh: serve. Stale: serve now and revalidate in the background. Older or missing:
    fetch once (single-flight across workers) and cache it. `refresh` skips the cache.
    `seen` is the raw cache value when the caller read it ahead (in one round trip with others).

    When Clopos fails and an older good copy exists, that copy is served as "stale" with the
    error attached (unless `allow_stale` is False: then the error is raised); the failure itself
    is never cached. A 404 drops the cached copy.
    """
    if seen is MISSING:
        with deadline.timed("cache"):
            seen = cache.get(source.key)
    entry = Entry.read(seen)
    now = time.time()
    if entry and not refresh:
        if entry.fresh_until > now:
            return _loaded(entry, source, "cached")
        if entry.stale_until > now:
            _revalidate_in_background(source, entry)
            return _loaded(entry, source, "revalidating")
    try:
        with deadline.upstream_reason("refresh" if refresh else ("expired" if entry else "miss")):
            return _fetch_once(source, entry)
    except CloposNotFoundError:
        cache.delete(source.key)  # it was deleted upstream: do not keep showing it
        raise
    except CloposError as exc:
        if entry and allow_stale:
            return _loaded(entry, source, "stale", error=exc)
        raise


def peek[T](source: Source[T]) -> T | None:
    """The cached value, whatever its age, or None; never calls Clopos."""
    entry = Entry.read(cache.get(source.key))
    if entry is None:
        return None
    try:
        return _parsed(entry, source)
    except CloposError:
        return None


def _produced[T](source: Source[T], payload: Any) -> singleflight.Produced[Loaded[T]]:
    """The fetched record and the cache entry that keeps it (single-flight stores the entry as
    it releases the lock, in the same round trip)."""
    value = source.parse(payload)  # raises before anything unreadable is cached
    policy = source.ages(value)
    fetched_at = time.time()
    entry = Entry(
        payload, fetched_at, fetched_at + policy.fresh, fetched_at + policy.stale, version=secrets.token_hex(8)
    )
    _keep_parsed(source.key, entry.version, value)
    loaded = Loaded(value, Freshness(fetched_at=as_datetime(fetched_at), source="live", version=entry.version))
    return singleflight.Produced(loaded, entry.as_cached(), policy.keep)


def _newer_than(seen: Entry | None) -> Callable[[Any], Entry | None]:
    """A reader for single-flight: the entry in a raw cached value, once it is newer than `seen`."""
    seen_at = seen.fetched_at if seen else 0.0

    def read(raw: Any) -> Entry | None:
        newer = Entry.read(raw)
        return newer if newer and newer.fetched_at > seen_at else None

    return read


def _fetch_once[T](source: Source[T], seen: Entry | None) -> Loaded[T]:
    newer = _newer_than(seen)

    def stored_meanwhile(raw: Any) -> Loaded[T] | None:
        entry = newer(raw)
        return None if entry is None else _loaded(entry, source, "cached")

    client = get_clopos_client()
    admission = client.admission_ahead()

    def produce(read_ahead: Mapping[str, Any]) -> singleflight.Produced[Loaded[T]]:
        # The call's pre-call state and its rate-budget admission came with the lock: two round
        # trips fewer on a cold page.
        with client.state_read_ahead(read_ahead, admission):
            return _produced(source, source.fetch())

    return singleflight.fetch_or_wait(
        keys.lock_key(source.key),
        result_key=source.key,
        produce=produce,
        ready=stored_meanwhile,
        lock_seconds=client.config.lock_seconds,
        read_ahead=client.state_keys(),
        count_ahead=admission.counters,
    )


def _revalidate_in_background(source: Source[Any], seen: Entry) -> None:
    """One worker refreshes a stale entry after the response; the user never waits for it."""
    config = get_clopos_client().config
    lock_key = keys.lock_key(source.key)
    owner = singleflight.acquire(lock_key, lock_seconds=config.lock_seconds)
    if not owner:
        return  # someone is already fetching it
    newer = _newer_than(seen)

    def revalidate() -> None:
        # The refresh has a Clopos budget of its own, like a request: the lock outlives it.
        token = deadline.begin(budget_seconds=config.timeouts.request_budget, background=True)
        stored = None
        try:
            with deadline.upstream_reason("revalidate"):
                if newer(cache.get(source.key)) is None:
                    produced = _produced(source, source.fetch())
                    stored = (source.key, produced.cached, produced.seconds)
        except CloposNotFoundError:
            cache.delete(source.key)
        except CloposError as exc:
            # The client already logged the call; the copy stays until it can be replaced.
            logger.warning("background revalidation failed key=%s error=%s", source.key, type(exc).__name__)
        finally:
            singleflight.release(lock_key, owner, store=stored)
            deadline.end(token)
            db.connections.close_all()  # this thread's own connections

    run_in_background(revalidate)


def run_in_background(task: Callable[[], None]) -> None:
    """A daemon thread: a sync gunicorn worker goes on serving while it runs. Tests replace this."""
    threading.Thread(target=task, name="clopos-revalidate", daemon=True).start()


def _loaded[T](entry: Entry, source: Source[T], how: str, error: CloposError | None = None) -> Loaded[T]:
    return Loaded(
        _parsed(entry, source),
        Freshness(fetched_at=as_datetime(entry.fetched_at), source=how, error=error, version=entry.version),
    )


# Parsed records kept per process, per fetch: parsing a list page of 50 orders on every warm
# request was a sixth of its time (issue 13). The key is the record and the fetch (its version),
# so a refresh is parsed anew; parsed records are frozen dataclasses, safe to share by threads.
PARSED_MAX_ENTRIES = 512
_parsed_lock = threading.Lock()
_parsed_records: OrderedDict[tuple[str, str], Any] = OrderedDict()


def _parsed[T](entry: Entry, source: Source[T]) -> T:
    key = (source.key, entry.version)
    with _parsed_lock:
        if key in _parsed_records:
            _parsed_records.move_to_end(key)
            return _parsed_records[key]  # type: ignore[no-any-return]
    record = source.parse(unpack(entry.payload))
    _keep_parsed(source.key, entry.version, record)
    return record


def _keep_parsed(key: str, version: str, record: Any) -> None:
    with _parsed_lock:
        _parsed_records[(key, version)] = record
        while len(_parsed_records) > PARSED_MAX_ENTRIES:
            _parsed_records.popitem(last=False)


def forget_parsed() -> None:
    """Drop the parsed records kept in this process (tests; a changed time zone setting)."""
    with _parsed_lock:
        _parsed_records.clear()


def as_datetime(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
