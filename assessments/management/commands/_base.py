"""Shared pieces of the import commands (DESIGN §10)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from assessments.importers import ImportFailed, read_table
from assessments.models import Round

T = TypeVar("T")


def fail(command: BaseCommand, error: ImportFailed) -> NoReturn:
    """Print every problem, then exit non-zero: nothing was imported."""
    for problem in error.problems:
        command.stderr.write(str(problem))
    raise CommandError(
        _(
            "Nothing was imported: the file has %(count)s problem(s). Correct them and run the command again."
        )
        % {"count": len(error.problems)}
    )


def load(
    command: BaseCommand,
    path: str,
    columns: dict[str, Sequence[str]],
    validate: Callable[..., list[T]],
) -> list[T]:
    file = Path(path)
    if not file.is_file():
        raise CommandError(_("The file %(path)s does not exist.") % {"path": path})
    try:
        return validate(read_table(file, file.name, columns))
    except ImportFailed as error:
        fail(command, error)


def get_round(year: int) -> Round:
    try:
        return Round.objects.get(year=year)
    except Round.DoesNotExist:
        raise CommandError(
            _("There is no round %(year)s. Create it first with create_round.") % {"year": year}
        ) from None
