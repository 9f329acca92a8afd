from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from assessments import services
from assessments.importers import ImportFailed
from assessments.unit_workbook import apply_changes, check_open, load_items, parse_unit_workbook

from ._base import fail, get_round
from .export_unit_workbook import get_unit


class Command(BaseCommand):
    help = (
        "Import a unit's filled self-assessment workbook: every row is checked first, and the "
        "changes are saved all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--round", type=int, required=True, dest="year")
        parser.add_argument("--unit", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        round_ = get_round(options["year"])
        unit = get_unit(options["unit"])
        file = Path(options["file"])
        if not file.is_file():
            raise CommandError(_("The file %(path)s does not exist.") % {"path": file})
        try:
            assessment = services.get_or_create_assessment(round_, unit)
            assessment.round, assessment.unit = round_, unit
            # A submitted or late assessment is refused before the file is read.
            check_open(assessment)
        except services.ServiceError as error:
            raise CommandError(error.message) from None
        try:
            changes = parse_unit_workbook(file, file.name, assessment, load_items(assessment))
        except ImportFailed as error:
            fail(self, error)
        try:
            count = apply_changes(assessment, changes, by=None)
        except services.ServiceError as error:
            raise CommandError(error.message) from None
        for change in changes:
            self.stdout.write(
                f"{change.code}: {describe_entry(change.old)} → {describe_entry(change.new)}"
            )
        self.stdout.write(
            ngettext(
                "Changed %(count)s item of %(unit)s, round %(year)s.",
                "Changed %(count)s items of %(unit)s, round %(year)s.",
                count,
            )
            % {"count": count, "unit": unit.code, "year": round_.year}
        )


def describe_entry(entry: services.ItemInput) -> str:
    if entry.not_applicable:
        text = _("not applicable (%(reason)s)") % {"reason": entry.na_reason}
    else:
        text = entry.value or "—"
    if entry.note:
        text += " · " + entry.note
    return text
