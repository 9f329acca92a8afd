from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from assessments import services
from assessments.importers import UNIT_COLUMNS, validate_units

from ._base import load


class Command(BaseCommand):
    help = "Import or update units from a .csv or .xlsx file (columns code, name, group, has_admin_procedures)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = load(self, options["file"], UNIT_COLUMNS, validate_units)
        try:
            summary = services.import_units(rows, by=None)
        except services.ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            _("Units: %(created)s created, %(updated)s updated; %(groups_created)s new group(s).")
            % summary
        )
