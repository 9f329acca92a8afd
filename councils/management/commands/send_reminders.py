from typing import Any

from django.core.management.base import BaseCommand

from councils.inbox import send_reminders


class Command(BaseCommand):
    help = (
        "Remind the people who are not done 3 days and 1 day before each deadline "
        "(idempotent; run it from cron, e.g. every hour)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_reminders()
        if options["verbosity"]:
            self.stdout.write(f"Sent {sent} reminder(s).")
