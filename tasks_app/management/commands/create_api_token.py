"""Create an API token for a user and print it: the only time it is shown."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from tasks_app.access import api_tokens
from tasks_app.management.language import SpokenCommand


class Command(SpokenCommand):
    help = (
        "Create an API token for USERNAME and print it once; only its hash is stored. "
        "Scripts send it as 'Authorization: Bearer <token>'."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the token is for.")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(_("No active user %(username)r.") % {"username": username})
        record, token = api_tokens.api_token_create(user=user, name=name)
        self.stderr.write(
            _("API token %(prefix)s… (%(name)r) for %(username)r; it is not shown again:")
            % {"prefix": record.prefix, "name": name, "username": username}
        )
        self.stdout.write(token)
