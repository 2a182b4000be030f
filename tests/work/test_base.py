import pytest

from django import forms
from django.core.files.uploadedfile import TemporaryUploadedFile

from tasks_app.work.base import UploadField


def _on_disk(name: str, content: bytes) -> TemporaryUploadedFile:
    """An upload as Django keeps a large one: read back in chunks, not whole."""
    upload = TemporaryUploadedFile(name, "text/plain", len(content), "utf-8")
    upload.write(content)
    upload.seek(0)
    return upload


def test_a_character_split_between_upload_chunks_is_accepted(monkeypatch):
    monkeypatch.setattr(TemporaryUploadedFile, "DEFAULT_CHUNK_SIZE", 5)
    upload = _on_disk("notes.txt", "abcdé, déjà vu.".encode())

    assert UploadField(extensions=(".txt",)).clean(upload) is upload


def test_a_bad_byte_is_reported_at_its_position_in_the_whole_file(monkeypatch):
    monkeypatch.setattr(TemporaryUploadedFile, "DEFAULT_CHUNK_SIZE", 5)
    upload = _on_disk("notes.txt", "abcdé, ".encode() + b"\xff")

    with pytest.raises(forms.ValidationError, match="position 8"):
        UploadField(extensions=(".txt",)).clean(upload)


def test_a_checked_upload_is_handed_on_from_its_first_byte():
    upload = _on_disk("notes.txt", b"Hello world.")

    assert UploadField(extensions=(".txt",)).clean(upload).read() == b"Hello world."


def test_a_binary_format_is_not_read_as_text():
    upload = _on_disk("archive.zip", b"PK\x03\x04\x00\xff")

    assert UploadField(extensions=(".zip",)).clean(upload) is upload
