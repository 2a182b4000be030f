"""Create the demo user on a fresh install, and print its name and password once."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the user 'demo' with a random password when it does not exist yet."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="demo")

    def handle(self, *args, username: str, **options) -> None:
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(
                f"Demo user {username!r} exists. Forgot its password? ./manage.py changepassword {username}"
            )
            return
        password = secrets.token_urlsafe(12)
        users.create_user(username=username, password=password)
        self.stdout.write(self.style.SUCCESS(f"Created demo user {username!r} with password {password!r}"))
