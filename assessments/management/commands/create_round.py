import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from assessments import services


def parse_day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            _("“%(value)s” is not a date in the form YYYY-MM-DD.") % {"value": text}
        ) from None


class Command(BaseCommand):
    help = "Create an assessment round, optionally cloning another round's criteria and opening it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument("--clone-from", type=int, dest="clone_from")
        parser.add_argument(
            "--open-until", dest="open_until", help="YYYY-MM-DD, end of day in Asia/Ho_Chi_Minh"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        open_until = parse_day(options["open_until"]) if options["open_until"] else None
        try:
            round_ = services.create_round(
                options["year"], by=None, clone_from=options["clone_from"], open_until=open_until
            )
        except services.ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(_("Created round %(year)s.") % {"year": round_.year})
