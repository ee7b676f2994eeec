"""The audit log in Django's admin: read-only evidence, for the admin role only."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from tests.pages import text_of

# The shared cache is database-backed: the conftest's cache.clear() needs the database first.
pytestmark = pytest.mark.django_db


def test_admin_sees_every_venue_in_django_admin_and_cannot_edit_it(client_for, audit_entries):
    client = client_for("admin")

    listing = client.get("/admin/audit/auditentry/")

    assert listing.status_code == 200
    text = text_of(listing.content)
    for order_id in (5001, 5002, 5003, 5004):
        assert str(order_id) in text
    entry = AuditEntry.objects.get(order_id=5001)
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize("username", ["manager", "support"])
def test_non_admins_cannot_open_django_admin_pages(client_for, audit_entries, username):
    """Signed in but not an admin: the console's 403 (with its navigation), not Django's
    "log in to a different account?" form."""
    response = client_for(username).get("/admin/audit/auditentry/")

    assert response.status_code == 403
    content = response.content.decode()
    assert "Not allowed" in content
    assert 'id="lookup-order-id"' in content and "Log out" in content
    assert "5001" not in content
