"""Create the demo user on a fresh install, and print its name and password once."""

import secrets

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from tasks_app.management.language import SpokenCommand


class Command(SpokenCommand):
    help = "Create the user 'demo' with a random password when it does not exist yet."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="demo")

    def handle(self, *args, username: str, **options) -> None:
        users = get_user_model().objects
        if users.filter(username=username).exists():
            exists = _("Demo user %(username)r exists.") % {"username": username}
            forgot = _("Forgot its password? ./manage.py changepassword %(username)s") % {
                "username": username
            }
            self.stdout.write(f"{exists} {forgot}")
            return
        password = secrets.token_urlsafe(12)
        users.create_user(username=username, password=password)
        created = _("Created demo user %(username)r with password %(password)r")
        self.stdout.write(self.style.SUCCESS(created % {"username": username, "password": password}))
