"""The {% taskpulse_progress %} tag: the markup of the live progress bar on a host's page."""

import pytest

from django.template import Context, Template

from tasks_app import services

pytestmark = pytest.mark.django_db


def render(text: str, **context) -> str:
    return Template("{% load taskpulse %}" + text).render(Context(context))


def test_a_task_renders_as_its_element_with_its_state_and_the_script(create_task):
    task = create_task("ticker", {"steps": 3, "interval": 0})
    services.task_start(task_id=task.id)
    services.task_progress(task_id=task.id, progress=40.0, current=1, total=3, message="Tick 1 of 3")
    task.refresh_from_db()

    page = render("{% taskpulse_progress task %}", task=task)

    assert f'<taskpulse-progress task-id="{task.id}">Running: Tick 1 of 3 (40%)</taskpulse-progress>' in page
    assert '<script type="module" src="/static/tasks_app/taskpulse-progress.js"></script>' in page


def test_a_label_names_the_bar_and_is_escaped(create_task):
    task = create_task("ticker", {"steps": 3, "interval": 0})

    page = render("{% taskpulse_progress task label=name %}", task=task, name='Import of "<orders>.csv"')

    assert 'label="Import of &quot;&lt;orders&gt;.csv&quot;"' in page


def test_a_task_id_alone_renders_a_waiting_bar():
    page = render("{% taskpulse_progress task_id %}", task_id="8c9a3f2e-0000-4000-8000-000000000001")

    assert (
        '<taskpulse-progress task-id="8c9a3f2e-0000-4000-8000-000000000001">Waiting</taskpulse-progress>'
        in page
    )
