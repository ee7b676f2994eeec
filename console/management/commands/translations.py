"""`manage.py translations extract|check|compile`: the translation workflow (README, "Languages").

* extract: every marked string of the source into locale/<code>/LC_MESSAGES/django.po (new
  strings empty, changed ones fuzzy), for every language but English (the source);
* check: fails when the catalogues lack a marked string, hold one the source dropped, or have an
  empty, fuzzy or incomplete translation (run by `make check` and the test suite);
* compile: the .mo files the server reads, for each catalogue changed since (`--force`: all).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from console import catalogues


class Command(BaseCommand):
    help = "Extract, check or compile the console's translation catalogues (locale/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["extract", "check", "compile"])
        parser.add_argument("--force", action="store_true", help="compile: every catalogue, changed or not")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "extract":
                catalogues.extract()
                self.stdout.write(f"Extracted into {', '.join(catalogues.languages())}: now translate, then check.")
            elif options["action"] == "compile":
                written = catalogues.compile_stale(force=options["force"])
                if written:
                    self.stdout.write(f"Compiled {', '.join(str(path) for path in written)}")
            else:
                found = catalogues.problems()
                if found:
                    raise CommandError("The translation catalogues are not complete:\n" + "\n".join(found))
                self.stdout.write(f"Translations complete: {', '.join(catalogues.languages())}.")
        except catalogues.GettextMissingError as exc:
            raise CommandError(str(exc)) from exc
