from typing import Any

from django.core.management.base import BaseCommand

from assessments import services


class Command(BaseCommand):
    help = "Lock every self-assessment whose deadline has passed (idempotent; run it from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        locked = services.lock_deadlines()
        if options["verbosity"]:
            self.stdout.write(f"Locked {locked} self-assessment(s).")
