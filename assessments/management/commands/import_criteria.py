from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from assessments import services
from assessments.importers import CRITERIA_COLUMNS, validate_criteria
from assessments.models import UnitGroup

from ._base import get_round, load


class Command(BaseCommand):
    help = "Import the criteria set of a unit group into a round from a .xlsx or .csv workbook."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--round", type=int, required=True, dest="year")
        parser.add_argument("--group", required=True)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Overwrite an existing set (only before the round opens).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        round_ = get_round(options["year"])
        code = options["group"].upper()
        group = UnitGroup.objects.filter(code=code).first()
        if group is None:
            raise CommandError(
                _("There is no unit group %(code)s. Import the units first (import_units).")
                % {"code": code}
            )
        rows = load(self, options["file"], CRITERIA_COLUMNS, validate_criteria)
        try:
            services.import_criteria_set(round_, group, rows, by=None, replace=options["replace"])
        except services.ServiceError as error:
            raise CommandError(error.message) from None
        self.stdout.write(
            _("Imported %(count)s criteria for %(group)s into round %(year)s.")
            % {"count": len(rows), "group": group.name, "year": round_.year}
        )
