from tasks_app.models import Task, TaskStatus
from tasks_app.work.document import strip_markdown
from tests.helpers import run_kind
from tests.work.pdf_file import pdf_with_pages

TEXT = "The quick brown fox jumps over the lazy dog. The fox runs!\n\nA second paragraph about the fox"


def _analyse(create_task, upload, name: str, content: bytes | str) -> Task:
    task = create_task("document", file=upload(name, content))
    run_kind(task)
    return Task.objects.get(pk=task.id)


def test_a_text_file_gets_words_sentences_paragraphs_and_reading_time(create_task, upload):
    task = _analyse(create_task, upload, "fox.txt", TEXT)

    result = task.result
    assert task.status == TaskStatus.COMPLETED
    assert (result["words"], result["sentences"], result["paragraphs"]) == (18, 3, 2)
    assert result["reading_time_seconds"] == round(18 / 238 * 60)


def test_the_most_frequent_terms_leave_out_common_words(create_task, upload):
    result = _analyse(create_task, upload, "fox.txt", TEXT).result

    assert result["top_terms"][0] == {"term": "fox", "count": 3}
    assert "the" not in {item["term"] for item in result["top_terms"]}


def test_markdown_is_counted_without_its_markup(create_task, upload):
    markdown = "# Title here\n\nSome **bold** words and a [link text](https://example.com/page).\n"

    result = _analyse(create_task, upload, "notes.md", markdown).result

    assert result["words"] == len("Title here Some bold words and a link text".split())


def test_strip_markdown_keeps_the_text_of_links_and_images():
    assert strip_markdown("See ![a chart](c.png) and [the docs](d.html).") == "See a chart and the docs."


def test_a_pdf_is_read_page_by_page(create_task, upload):
    pdf = pdf_with_pages(["First page has five words.", "Second page has four."])

    task = _analyse(create_task, upload, "report.pdf", pdf)

    assert (task.status, task.result["words"], task.result["format"]) == (TaskStatus.COMPLETED, 9, "pdf")


def test_a_damaged_pdf_fails_with_a_clear_error(create_task, upload):
    task = _analyse(create_task, upload, "damaged.pdf", b"%PDF-1.7\nthe rest of it is missing")

    assert task.status == TaskStatus.FAILED
    assert "PDF could not be read" in task.error


def test_a_document_without_words_fails_with_a_clear_error(create_task, upload):
    task = _analyse(create_task, upload, "blank.txt", "   \n\n  ...  \n")

    assert task.status == TaskStatus.FAILED
    assert "no words" in task.error
