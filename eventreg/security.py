"""Security headers, request size limits, HTTPS settings, and running behind a reverse proxy."""

from itertools import chain

from flask import Flask, Response, abort, g, request
from flask_login import current_user
from werkzeug.datastructures import Headers
from werkzeug.middleware.proxy_fix import ProxyFix

# No inline scripts or styles anywhere: everything comes from /static.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# Views that take file uploads (participant reports from large webinars) get a larger limit.
LARGE_UPLOAD_ENDPOINTS = frozenset(
    {"admin.meeting_reports.import_report", "practices.upload_document"}
)
# Only the door's scanner may use the camera.
CAMERA_ENDPOINTS = frozenset({"checkin.page"})
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"
CAMERA_PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=()"
# Event materials (slides, recordings' documents) may be larger still: MATERIALS_MAX_MB.
MATERIAL_UPLOAD_ENDPOINTS = frozenset({"admin.materials.manage", "api.create_material"})
# The bodies werkzeug parses into request.form.
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# On every response unless the view set its own.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
CAMERA_HEADERS = tuple(
    (name, CAMERA_PERMISSIONS_POLICY if name == "Permissions-Policy" else value)
    for name, value in SECURITY_HEADERS
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def init_app(app: Flask) -> None:
    """Trust proxy headers only when told how many proxies there are; add headers everywhere."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config["HTTPS"]:
        app.config.update(
            SESSION_COOKIE_SECURE=True,
            REMEMBER_COOKIE_SECURE=True,
            PREFERRED_URL_SCHEME="https",
        )

    # Registered before CSRFProtect's own before_request, which already reads the form.
    @app.before_request
    def allow_large_uploads():
        if request.endpoint in LARGE_UPLOAD_ENDPOINTS:
            request.max_content_length = app.config["UPLOAD_MAX_BYTES"]
        elif request.endpoint in MATERIAL_UPLOAD_ENDPOINTS:
            # The file plus the form fields around it; a larger file is refused by name.
            request.max_content_length = (app.config["MATERIALS_MAX_MB"] + 1) * 1024 * 1024

    @app.before_request
    def refuse_nul_characters():
        """No text field can hold NUL (PostgreSQL refuses it): say so instead of failing."""
        if _contains_nul():
            abort(400, description="The address or the form contains a NUL character.")

    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    """Every response's security headers; pages for staff and network members are kept out of
    caches (they carry personal data: registrations, the members' directory)."""
    signed_in = current_user.is_authenticated or g.get("member") is not None
    if request.endpoint != "static" and signed_in:
        response.headers["Cache-Control"] = "no-store"
    add_default_headers(response.headers, request.endpoint, request.is_secure)
    return response


def add_default_headers(headers: Headers, endpoint: str | None, is_secure: bool) -> None:
    """The headers a response has unless it sets them itself (also for stored pages)."""
    wanted = CAMERA_HEADERS if endpoint in CAMERA_ENDPOINTS else SECURITY_HEADERS
    if is_secure:
        wanted = (*wanted, HSTS)
    present = {name.lower() for name, _value in headers}  # a view's own value is kept
    headers.extend([(name, value) for name, value in wanted if name.lower() not in present])


def _contains_nul() -> bool:
    if "\x00" in request.path:
        return True
    # Only form bodies become request.form: for any other body (the API's JSON) asking for it
    # sets up werkzeug's form parser for nothing, on every request.
    has_form = request.mimetype in FORM_MIMETYPES
    for data in (request.args, request.form) if has_form else (request.args,):
        # MultiDicts: each value is a list of strings; a multipart part without a name has the
        # key None. One joined string searched in C: a sign-up form has a dozen fields.
        texts = chain(data.keys(), chain.from_iterable(data.listvalues()))
        if data and "\x00" in "".join(map(str, texts)):
            return True
    return False
