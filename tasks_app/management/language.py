"""Management commands speak the operator's language: the terminal's locale (LC_ALL, LC_MESSAGES
or LANG, as gettext reads them) when the site offers it, else LANGUAGE_CODE."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation


def terminal_language() -> str:
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            code = value.split(".")[0].split("@")[0].replace("_", "-").lower()
            try:
                return translation.get_supported_language_variant(code)
            except LookupError:
                return settings.LANGUAGE_CODE
    return settings.LANGUAGE_CODE


class SpokenCommand(BaseCommand):
    """A command whose output is for people, in the terminal's language."""

    def execute(self, *args, **options):
        with translation.override(terminal_language()):
            return super().execute(*args, **options)
