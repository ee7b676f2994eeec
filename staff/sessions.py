"""Sessions: Django's cached_db sessions, read in the same cache round trip as the user.

Every console request reads its session, then the user and permission set the session names
(staff.backends): two round trips to the shared cache, one after the other, since the user's id
is inside the session. A worker that has loaded a session once knows whose it is, so from then
on it asks for the session and that user's entries together, and hands the user's entries to the
authentication backend for this request only. Nothing is kept but the hint "this session was
this user's"; the values are read fresh on every request. A hint gone wrong (the session now
holds another user, or is gone) only costs the round trip it was meant to save.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import cached_db
from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache

from staff import backends

# session key → the user id it held when this worker last loaded it. Bounded: a worker sees
# its instance's sessions, but a flood of new logins must not grow it without end.
_SESSION_USERS: dict[str, int] = {}
_MAX_HINTS = 4096


class SessionStore(cached_db.SessionStore):
    _cache: BaseCache  # set by Django's __init__; django-stubs does not declare it

    def load(self) -> dict[str, Any]:
        session_key = self.session_key  # Django's load() drops it when the session is gone
        user_id = _SESSION_USERS.get(session_key) if session_key else None
        if user_id is not None and settings.SESSION_CACHE_ALIAS == DEFAULT_CACHE_ALIAS:
            try:
                found = self._cache.get_many([self.cache_key, *backends.read_ahead_keys(user_id)])
            except Exception:  # noqa: BLE001 - as Django's own load(): an unreadable key is a miss
                found = {}
            data: dict[str, Any] | None = found.pop(self.cache_key, None)
            if data is not None:
                if data.get(SESSION_KEY) == str(user_id):
                    backends.read_ahead(user_id, found)
                else:  # logged out, or (not by Django's own login) another user's now
                    _remember(session_key, data.get(SESSION_KEY))
                return data
        data = super().load()
        _remember(session_key, data.get(SESSION_KEY))
        return data


def _remember(session_key: str | None, user_id: Any) -> None:
    if not session_key:
        return
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):  # no user in it (None), or not ours
        _SESSION_USERS.pop(session_key, None)
        return
    if len(_SESSION_USERS) >= _MAX_HINTS:
        _SESSION_USERS.clear()
    _SESSION_USERS[session_key] = user_id
