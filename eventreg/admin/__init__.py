"""The organiser area: every page under /admin, one module or package per part.

``routes`` holds the ``admin`` blueprint (events, attendance lists, registrations, messages,
the outbox, accounts); the other parts are blueprints nested in it, so their endpoints read
``admin.reports.event_csv``, ``admin.materials.manage`` ...
"""

from . import certificates, materials
from .feedback import routes as feedback
from .meeting_reports import routes as meeting_reports
from .reports import routes as reports
from .routes import bp

for part in (reports, meeting_reports, materials, feedback, certificates):
    bp.register_blueprint(part.bp)

__all__ = ["bp"]
