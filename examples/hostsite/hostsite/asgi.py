import os

from django.core.asgi import get_asgi_application

from tasks_app.asgi import taskpulse_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostsite.settings")
application = taskpulse_application(get_asgi_application())
