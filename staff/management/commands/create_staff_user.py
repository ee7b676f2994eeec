import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.permissions import ROLES
from staff.services import staff_user_upsert


class Command(BaseCommand):
    help = (
        "Create or update a staff user with a role and venues. The password comes from STAFF_PASSWORD, "
        "or an interactive prompt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLES))
        parser.add_argument("--venue", type=int, action="append", default=[], dest="venues", metavar="ID")
        parser.add_argument("--all-venues", action="store_true")

    def handle(self, *args: Any, username: str, role: str, venues: list[int], all_venues: bool, **options: Any) -> None:
        password = os.environ.get("STAFF_PASSWORD")
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        try:
            staff_user_upsert(username=username, role=role, password=password, venue_ids=venues, all_venues=all_venues)
        except (ValueError, ValidationError) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        if all_venues:
            where = "all venues"
        else:
            where = ("venues " + ", ".join(map(str, sorted(set(venues))))) if venues else "no venues yet"
        self.stdout.write(self.style.SUCCESS(f"{username}: role {role}, {where}"))
