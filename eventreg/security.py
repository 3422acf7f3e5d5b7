"""Security headers, request size limits, HTTPS settings, and running behind a reverse proxy."""

from flask import Flask, request
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
LARGE_UPLOAD_ENDPOINTS = frozenset({"attendance.import_report", "practices.upload_document"})


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

    @app.after_request
    def add_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
