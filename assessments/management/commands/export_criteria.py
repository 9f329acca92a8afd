from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from assessments.exports import criteria_workbook
from assessments.importers import criteria_rows
from assessments.models import CriteriaSet

from ._base import get_round


class Command(BaseCommand):
    help = "Export a criteria set to an .xlsx workbook that import_criteria reads back."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--round", type=int, required=True, dest="year")
        parser.add_argument("--group", required=True)
        parser.add_argument("-o", "--output", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        round_ = get_round(options["year"])
        criteria_set = (
            CriteriaSet.objects.filter(round=round_, group__code=options["group"].upper())
            .select_related("group")
            .first()
        )
        if criteria_set is None:
            raise CommandError(
                _("Round %(year)s has no criteria set for the group %(group)s.")
                % {"year": round_.year, "group": options["group"]}
            )
        output = Path(options["output"])
        if output.suffix.lower() != ".xlsx":
            raise CommandError(_("The output file must end in .xlsx."))
        rows = criteria_rows(criteria_set.criteria.order_by("position"))
        title = _("Criteria set %(group)s – round %(year)s") % {
            "group": criteria_set.group.name,
            "year": round_.year,
        }
        output.write_bytes(criteria_workbook(rows, title))
        self.stdout.write(
            _("Wrote %(count)s criteria to %(path)s.") % {"count": len(rows), "path": output}
        )
