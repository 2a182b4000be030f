from django.test import Client

from tasks_app.models import Dataset, DatasetStatus


def test_the_dashboard_asks_a_visitor_to_log_in():
    response = Client().get("/")

    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/")


def test_the_dashboard_offers_every_kind_and_my_ready_datasets(user, other_user):
    Dataset.objects.create(owner=user, name="My sales", columns=[], status=DatasetStatus.READY)
    Dataset.objects.create(owner=user, name="Half imported", columns=[])
    Dataset.objects.create(owner=other_user, name="Not mine", columns=[], status=DatasetStatus.READY)
    client = Client()
    client.force_login(user)

    page = client.get("/").content.decode()

    for kind in ("document", "data_import", "batch_report", "ticker"):
        assert f'value="{kind}"' in page
    assert "My sales" in page
    assert "Half imported" not in page
    assert "Not mine" not in page


def test_logging_out_ends_the_session(user):
    client = Client()
    client.force_login(user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert client.get("/api/tasks/").status_code == 401
