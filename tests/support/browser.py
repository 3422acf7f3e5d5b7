"""Browser fixtures (real Chromium through Playwright) and a live server; loaded by conftest.

One Playwright and one Chromium per test process. Chromium's camera is a fake device reading a
video file (``fake_camera``): ``fake_camera.show(png)`` puts a picture in front of it, and the
next page that starts the camera sees it. With CI=true a missing Chromium fails the tests;
elsewhere they are skipped.
"""

import io
import os
import threading
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.serving import WSGIRequestHandler, make_server

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # requirements-dev.txt installs it
    expect = sync_playwright = None

CHROMIUM = Path(os.environ.get("EVENTREG_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps trying to reach the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",  # grant the camera without asking
    "--use-fake-device-for-media-stream",
]
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000  # a decode takes about a second here; shared CI machines are slower
CAMERA_SIZE = (640, 480)
CAMERA_FRAMES = 10


# A page whose script marks an element data-ready="false" flips it to "true" once the script has
# wired the page; until then what a test types or clicks may go unheard.
SCRIPTS_READY = "() => !document.querySelector('[data-ready=\"false\"]')"


def wait_for_scripts(page) -> None:
    """Wait (with the page's deadline) until the page's scripts have set it up."""
    page.wait_for_function(SCRIPTS_READY)


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


class FakeCamera:
    """A YUV4MPEG2 video file that Chromium plays as its camera, re-read whenever one starts."""

    def __init__(self, path: Path):
        self.path = path
        self.show(None)

    def show(self, png: bytes | None) -> None:
        """Hold a picture (a PNG, centred on white) in front of the camera; None for nothing."""
        frame = Image.new("RGB", CAMERA_SIZE, "white")
        if png is not None:
            picture = Image.open(io.BytesIO(png)).convert("RGB")
            picture.thumbnail((CAMERA_SIZE[0] - 40, CAMERA_SIZE[1] - 40))
            left = (CAMERA_SIZE[0] - picture.width) // 2
            top = (CAMERA_SIZE[1] - picture.height) // 2
            frame.paste(picture, (left, top))
        y, cb, cr = frame.convert("YCbCr").split()
        half = (CAMERA_SIZE[0] // 2, CAMERA_SIZE[1] // 2)
        planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
        header = f"YUV4MPEG2 W{CAMERA_SIZE[0]} H{CAMERA_SIZE[1]} F10:1 Ip A1:1 C420jpeg\n"
        video = header.encode() + (b"FRAME\n" + planes) * CAMERA_FRAMES
        partial = self.path.with_suffix(".partial")
        partial.write_bytes(video)
        os.replace(partial, self.path)  # a camera starting now never reads half a file


@pytest.fixture(scope="session")
def fake_camera(tmp_path_factory) -> FakeCamera:
    return FakeCamera(tmp_path_factory.mktemp("camera") / "camera.y4m")


@pytest.fixture(scope="session")
def playwright():
    if sync_playwright is None:
        _unavailable("Playwright is not installed (requirements-dev.txt)")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright, fake_camera):
    """Headless Chromium whose camera is ``fake_camera``."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={fake_camera.path}"],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def new_context(browser):
    """Open browser contexts (own cookies and storage) sized like a phone; closed afterwards."""
    contexts = []

    def _new(**options):
        context = browser.new_context(**({"viewport": PHONE} | options))
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


class _QuietHandler(WSGIRequestHandler):
    """No access log: a failing browser test shows its own story, not every static file."""

    def log_request(self, *args, **kwargs):
        pass


class _InFlight:
    """The app, counting the requests it is answering: the server stops only after the last
    one has ended, so none holds a database connection past the test (a page still polling,
    such as the door's counter, would otherwise leave one open when its test is torn down)."""

    def __init__(self, app):
        self.app = app
        self.active = 0
        self.idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self.idle:
            self.active += 1
        answer = None
        try:
            answer = self.app(environ, start_response)
            yield from answer
        finally:
            if hasattr(answer, "close"):
                answer.close()  # what the server would call: Flask's teardown, open files
            with self.idle:
                self.active -= 1
                self.idle.notify_all()

    def wait_until_idle(self, timeout: float = 10) -> None:
        with self.idle:
            self.idle.wait_for(lambda: self.active == 0, timeout)


@pytest.fixture
def live_server(app):
    """The test's app served over HTTP on a free loopback port; yields its base URL."""
    served = _InFlight(app)
    server = make_server("127.0.0.1", 0, served, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    served.wait_until_idle()
    server.server_close()
