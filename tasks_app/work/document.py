"""The `document` kind: statistics of an uploaded text, Markdown or PDF file.

Steps: parse (extract the text) → analyse (words, sentences, frequent terms, reading time)
→ store the statistics as the task's result.
"""

import re
from collections import Counter

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tasks_app.models import Task
from tasks_app.progress_tasks import progress_task
from tasks_app.work.base import Kind, KindForm, Reporter, UploadField, WorkError, number_format

WORDS_PER_MINUTE = 238  # average silent reading speed of adults reading non-fiction
TOP_TERMS = 10
CHUNK_LINES = 2000

_FORMATS = {".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".pdf": "pdf"}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_ENDS_WITH_SENTENCE_END = re.compile(r"[.!?]\s*$")
_STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don isn wasn aren weren one two may might must shall""".split()
)
_MARKDOWN_RULES = [
    (re.compile(r"^```.*?$", re.MULTILINE), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"<[^>\n]+>"), ""),
    (re.compile(r"^\s{0,3}(#{1,6}|>+|[-*+]|\d+[.)])\s+", re.MULTILINE), ""),
    (re.compile(r"(\*\*|__|\*|_|`|~~)"), ""),
]


class DocumentParams(KindForm):
    file = UploadField(extensions=tuple(_FORMATS))

    def params(self) -> dict:
        name = self.cleaned_data["file"].name
        return {"filename": name, "format": _FORMATS[_extension(name)]}


def _extension(name: str) -> str:
    return "." + name.lower().rsplit(".", 1)[-1]


@progress_task(name="document", keyword_params=True)
def run(reporter: Reporter, filename: str, format: str) -> dict:
    reporter.step(_("Parsing the document"), until=30)
    text = _parse(reporter.task, reporter)
    reporter.step(_("Analysing the text"), until=95)
    statistics = analyse(text, reporter)
    reporter.step(_("Storing the results"), until=100)
    return {"filename": filename, "format": format, **statistics}


def _parse(task: Task, reporter: Reporter) -> str:
    file_format = task.params["format"]
    with task.input_file.open("rb") as handle:
        if file_format == "pdf":
            return _pdf_text(handle, reporter)
        # UTF-8 without NUL bytes: UploadField checked it when it was submitted.
        text = handle.read().decode("utf-8-sig")
    return strip_markdown(text) if file_format == "markdown" else text


def _pdf_text(handle, reporter: Reporter) -> str:
    try:
        reader = PdfReader(handle)
        if reader.is_encrypted:
            raise WorkError(_("The PDF is encrypted; upload a copy without a password."))
        pages = []
        for number, page in enumerate(reader.pages, start=1):
            pages.append(page.extract_text() or "")
            reporter.update(
                number,
                len(reader.pages),
                _("Parsed page %(page)s of %(pages)s")
                % {"page": number_format(number), "pages": number_format(len(reader.pages))},
            )
    except (PdfReadError, ValueError, KeyError) as exc:
        raise WorkError(_("The PDF could not be read: %(error)s") % {"error": exc}) from exc
    return "\n".join(pages)


def strip_markdown(text: str) -> str:
    for pattern, replacement in _MARKDOWN_RULES:
        text = pattern.sub(replacement, text)
    return text


def analyse(text: str, reporter: Reporter) -> dict:
    lines = text.splitlines()
    words = 0
    sentences = 0
    characters = 0
    terms: Counter[str] = Counter()
    for start in range(0, len(lines), CHUNK_LINES):
        chunk = "\n".join(lines[start : start + CHUNK_LINES])
        chunk_words = _WORD.findall(chunk)
        words += len(chunk_words)
        sentences += len(_SENTENCE_END.findall(chunk))
        characters += sum(1 for char in chunk if not char.isspace())
        terms.update(
            word.lower()
            for word in chunk_words
            if len(word) > 2 and not word.isdigit() and word.lower() not in _STOPWORDS
        )
        done = min(start + CHUNK_LINES, len(lines))
        reporter.update(
            done,
            len(lines),
            _("Analysed %(done)s of %(total)s lines")
            % {"done": number_format(done), "total": number_format(len(lines))},
        )
    if words == 0:
        raise WorkError(_("The document has no words to analyse (a scanned PDF holds images, not text)."))
    if not _ENDS_WITH_SENTENCE_END.search(text):
        sentences += 1  # the last sentence needs no full stop to count
    paragraphs = len([block for block in re.split(r"\n\s*\n", text) if block.strip()])
    reading_seconds = round(words / WORDS_PER_MINUTE * 60)
    return {
        "words": words,
        "sentences": sentences,
        "paragraphs": paragraphs,
        "characters": characters,
        "unique_terms": len(terms),
        "average_sentence_words": round(words / sentences, 1),
        "reading_time_seconds": reading_seconds,
        "reading_time": _duration(reading_seconds),
        "top_terms": [{"term": term, "count": count} for term, count in terms.most_common(TOP_TERMS)],
    }


def _duration(seconds: int) -> str:
    minutes, seconds = divmod(seconds, 60)
    if minutes:
        return _("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": seconds}
    return _("%(seconds)s s") % {"seconds": seconds}


KIND = Kind(label=gettext_lazy("Analyse a document"), form=DocumentParams, task=run, takes_file=True)
