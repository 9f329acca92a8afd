from typing import Any

from django.core.management.base import BaseCommand

from assessments import services
from councils.services import lock_explanations


class Command(BaseCommand):
    # Here, one floor up, because it locks both the self-assessments (assessments) and the
    # explanations (councils).
    help = "Lock self-assessments and explanations whose deadline has passed (idempotent; cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        locked = services.lock_deadlines()
        explained = lock_explanations()
        if options["verbosity"]:
            self.stdout.write(f"Locked {locked} self-assessment(s) and {explained} explanation(s).")
