"""The two shared services: file storage under instance/ and HTML to tagged PDF."""

import base64
import http.server
import io
import subprocess
import threading

import pytest
from pypdf import PdfReader

from eventreg.services import pdf, tickets
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


def test_render_pdf_loads_local_and_inline_images_but_nothing_from_the_network(app, tmp_path):
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (tmp_path / "assets").mkdir()
    png = tickets.qr_png("local image")
    (tmp_path / "assets" / "qr.png").write_bytes(png)
    (tmp_path / "secret.png").write_bytes(png)
    inline = "data:image/png;base64," + base64.b64encode(png).decode()
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Images</title></head>'
        f'<body><img src="qr.png" alt="local"><img src="{inline}" alt="inline">'
        f'<img src="http://127.0.0.1:{server.server_port}/tracker.png" alt="remote">'
        f'<img src="file://{tmp_path}/secret.png" alt="outside"></body></html>'
    )
    try:
        data = pdf.render_pdf(html, base_url=(tmp_path / "assets").as_uri())
    finally:
        server.shutdown()
        server.server_close()
    assert requests == []
    assert len(PdfReader(io.BytesIO(data)).pages[0].images) == 2  # the local and the inline one
