"""Serve HTTP and WebSocket with Daphne, tuned (tasks_app.server) and configured from settings:
the project's ASGI_APPLICATION."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from tasks_app import server
from tasks_app.server.daphne_server import serve, server_for


class Command(BaseCommand):
    help = "Serve HTTP and WebSocket with Daphne; on SIGTERM, close WebSockets with 1012 first."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options) -> None:
        server.install()
        serve(server_for(import_string(settings.ASGI_APPLICATION), host=host, port=port))
