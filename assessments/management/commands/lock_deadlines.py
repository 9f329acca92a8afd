from typing import Any

from django.core.management.base import BaseCommand

from assessments import services


class Command(BaseCommand):
    help = "Lock self-assessments and explanations whose deadline has passed (idempotent; cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        locked = services.lock_deadlines()
        # Importing councils here keeps the assessments app free of it at import time.
        from councils.services import lock_explanations

        explained = lock_explanations()
        if options["verbosity"]:
            self.stdout.write(f"Locked {locked} self-assessment(s) and {explained} explanation(s).")
