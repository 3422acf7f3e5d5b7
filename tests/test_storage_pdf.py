"""The two shared services: file storage under instance/ and HTML to tagged PDF."""

import subprocess

import pytest
from pypdf import PdfReader

from eventreg.services import pdf
from eventreg.services.storage import LocalFolderStorage, StorageError, new_key, storage


def test_storage_keeps_bytes_under_the_instance_folder(app, tmp_path):
    key = new_key("materials/1")
    storage().put(key, b"%PDF-1.7 hello")
    assert storage().get(key) == b"%PDF-1.7 hello"
    assert storage().exists(key)
    assert (tmp_path / "instance" / "files" / key).is_file()
    storage().delete(key)
    assert not storage().exists(key)
    with pytest.raises(StorageError):
        storage().get(key)


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "a/../../b", "", "a\\b"])
def test_storage_refuses_keys_outside_its_folder(tmp_path, key):
    store = LocalFolderStorage(tmp_path)
    with pytest.raises(StorageError):
        store.put(key, b"x")
    assert list(tmp_path.iterdir()) == []


def test_render_pdf_is_tagged_with_language_and_reads_back_cyrillic(app, tmp_path):
    html = (
        '<!doctype html><html lang="bg"><head><meta charset="utf-8">'
        "<title>Удостоверение</title></head><body><h1>Удостоверение за участие</h1>"
        "<p>Åsa Ørsted, Иван Петров</p></body></html>"
    )
    data = pdf.render_pdf(html)
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    assert "Tagged:          yes" in info
    assert "Title:           Удостоверение" in info
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True).stdout
    assert "Удостоверение за участие" in text and "Åsa Ørsted, Иван Петров" in text
    assert PdfReader(path).trailer["/Root"]["/Lang"] == "bg"
