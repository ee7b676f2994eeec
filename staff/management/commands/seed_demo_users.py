import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from staff.services import staff_user_upsert

# One user per role, plus `no-venue`: a role but no venue yet (it shows the "no access yet" page).
DEMO_USERS = [
    ("manager", "manager", [], True),
    ("support", "support", [3], False),
    ("admin", "admin", [], True),
    ("no-venue", "support", [], False),
]


class Command(BaseCommand):
    help = "Demo mode only: create one user per role with a fresh random password and print them."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.CLOPOS_DEMO:
            raise CommandError("seed_demo_users runs only with CLOPOS_DEMO=1.")
        lines = []
        for username, role, venues, all_venues in DEMO_USERS:
            password = f"demo-{secrets.token_urlsafe(8)}"
            staff_user_upsert(username=username, role=role, password=password, venue_ids=venues, all_venues=all_venues)
            where = "all venues" if all_venues else (f"venues {venues}" if venues else "no venues")
            lines.append(f"  {username:<9} {password:<18} role {role}, {where}")
        self.stdout.write("Demo users (new passwords on every start):\n" + "\n".join(lines))
