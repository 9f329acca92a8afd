from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from assessments import services
from assessments.models import Unit
from assessments.unit_workbook import build_unit_workbook, load_items, load_tree

from ._base import get_round


class Command(BaseCommand):
    help = "Export a unit's self-assessment workbook (.xlsx) that import_unit_workbook reads back."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--round", type=int, required=True, dest="year")
        parser.add_argument("--unit", required=True)
        parser.add_argument("-o", "--output", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        round_ = get_round(options["year"])
        unit = get_unit(options["unit"])
        output = Path(options["output"])
        if output.suffix.lower() != ".xlsx":
            raise CommandError(_("The output file must end in .xlsx."))
        try:
            assessment = services.get_or_create_assessment(round_, unit)
        except services.ServiceError as error:
            raise CommandError(error.message) from None
        assessment.round, assessment.unit = round_, unit
        items = load_items(assessment)
        output.write_bytes(build_unit_workbook(assessment, load_tree(assessment), items))
        self.stdout.write(
            _("Wrote the workbook of %(unit)s, round %(year)s (%(count)s items) to %(path)s.")
            % {"unit": unit.code, "year": round_.year, "count": len(items), "path": output}
        )


def get_unit(code: str) -> Unit:
    unit = Unit.objects.select_related("group").filter(code=code.upper()).first()
    if unit is None:
        raise CommandError(
            _("There is no unit %(code)s. Import the units first (import_units).") % {"code": code}
        )
    return unit
