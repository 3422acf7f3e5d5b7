"""Attendance certificates: only for attendees, legible, verified by their QR code, mailed once."""

import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import (
    AgendaDay,
    Certificate,
    EventKind,
    EventMode,
    MessageKind,
    OutboxMessage,
    Registration,
    SkipReason,
)
from eventreg.services import certificates, checkin, feedback, outbox, privacy
from eventreg.services.certificate_pdf import certificate_pdf
from eventreg.services.manage_links import manage_token
from tests.support.after_event import attend, end_event
from tests.support.mail import smtp_config

BULGARIAN_TITLE = "Учебна мисия в Габрово"


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


def save(data: bytes, tmp_path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    return str(path)


def pdf_text(path: str) -> str:
    return subprocess.run(
        ["pdftotext", path, "-"], capture_output=True, text=True, check=True
    ).stdout


def qr_codes_in(path: str, tmp_path) -> list[str]:
    """Render the page with poppler, as a scanner would see it printed, and read its QR codes."""
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", path, str(tmp_path / "page")], check=True
    )
    return [code.text for code in zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))]


@pytest.fixture
def gabrovo(make_event):
    return make_event(
        title="Study mission to Gabrovo",
        translations={"bg": {"title": BULGARIAN_TITLE}},
        city="Gabrovo",
        timezone="Europe/Sofia",
        host_partner="Община Габрово",
    )


def test_bulgarian_certificate_reads_back_and_its_qr_code_verifies(
    app, client, gabrovo, sign_up, tmp_path
):
    registrant = sign_up(gabrovo, first_name="Иван", last_name="Петров", language="bg")
    registration = attend(registrant.registrations[0])
    end_event(gabrovo)

    certificate = certificates.issue(registration)
    path = save(certificate_pdf(certificate), tmp_path)

    text = pdf_text(path)
    assert "Иван Петров" in text
    assert BULGARIAN_TITLE in text
    assert "Удостоверение за участие" in text
    url = f"http://eventreg.test/certificates/{certificate.code}"
    assert url in text.replace("\n", "")
    reader = PdfReader(path)
    assert reader.trailer["/Root"]["/Lang"] == "bg"
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged
    info = subprocess.run(["pdffonts", path], capture_output=True, text=True).stdout
    assert "DejaVu" in info

    (scanned,) = qr_codes_in(path, tmp_path)
    assert scanned == url
    page = client.get(scanned)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Иван Петров" in body and "This certificate is valid." in body


def test_forged_or_revoked_code_answers_not_valid(app, client, gabrovo, sign_up):
    registration = attend(sign_up(gabrovo).registrations[0])
    end_event(gabrovo)
    certificate = certificates.issue(registration)
    forged = certificate.code[:-1] + ("A" if certificate.code[-1] != "A" else "B")

    for code in (forged, "nonsense", "0" * 20):
        page = client.get(f"/certificates/{code}")
        assert page.status_code == 404
        assert "This certificate is not valid." in page.get_data(as_text=True)
        assert registration.registrant.last_name not in page.get_data(as_text=True)

    certificates.revoke(certificate)
    page = client.get(f"/certificates/{certificate.code}")
    assert page.status_code == 404
    assert "not valid" in page.get_data(as_text=True)


def test_no_certificate_for_someone_who_did_not_attend(app, client, gabrovo, sign_up):
    registrant = sign_up(gabrovo)
    registration = registrant.registrations[0]
    end_event(gabrovo)

    with pytest.raises(certificates.NotAttended):
        certificates.issue(registration)
    token = manage_token(registrant)
    url = f"/manage/{token}/certificates/{registration.reference}.pdf"
    assert client.get(url).status_code == 404
    assert certificates.send_for_event(gabrovo) == 0
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0
    assert "certificate" not in client.get(f"/manage/{token}").get_data(as_text=True).lower()


def test_no_certificate_before_the_event_ends(app, gabrovo, sign_up):
    registration = attend(sign_up(gabrovo).registrations[0])

    with pytest.raises(certificates.NotAttended):
        certificates.issue(registration)
    with pytest.raises(certificates.EventNotEnded):
        certificates.send_for_event(gabrovo)


def test_online_attendee_downloads_the_certificate_from_the_manage_page(
    app, client, make_event, sign_up, tmp_path
):
    event = make_event(kind=EventKind.WEBINAR, mode=EventMode.ONLINE, city=None, venue=None)
    registrant = sign_up(event, first_name="Søren", last_name="Æbelø", language="da")
    registration = registrant.registrations[0]
    registration.joined_online_at = event.starts_at
    db.session.commit()
    end_event(event)
    token = manage_token(registrant)

    page = client.get(f"/manage/{token}").get_data(as_text=True)
    url = f"/manage/{token}/certificates/{registration.reference}.pdf"
    assert url in page
    response = client.get(url)

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"certificate-{registration.reference}.pdf" in response.headers["Content-Disposition"]
    text = pdf_text(save(response.data, tmp_path))
    assert "Søren Æbelø" in text and "Online" in text


def test_send_mails_each_attendee_once_with_the_pdf(app, smtp, gabrovo, sign_up, tmp_path):
    attendee = attend(sign_up(gabrovo, language="bg").registrations[0])
    sign_up(gabrovo)  # registered, never came
    end_event(gabrovo)
    outbox.deliver_all()  # the sign-up e-mails
    smtp.inbox.wait_for(2)
    smtp.inbox.envelopes.clear()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["certificates", "send", gabrovo.slug])
    assert "Queued 1 certificate(s)." in result.output
    again = runner.invoke(args=["certificates", "send", gabrovo.slug])
    assert "Queued 0 certificate(s)." in again.output
    outbox.deliver_all()
    db.session.rollback()

    (message,) = smtp.inbox.wait_for(1)
    assert message["To"].addresses[0].addr_spec == attendee.registrant.email
    (attachment,) = [
        p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"
    ]
    assert attachment.get_filename() == f"certificate-{attendee.reference}.pdf"
    assert BULGARIAN_TITLE in pdf_text(save(attachment.get_payload(decode=True), tmp_path))
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert kinds.count(MessageKind.CERTIFICATE) == 1


@pytest.mark.parametrize("how", ["revoked", "check-in undone"])
def test_a_certificate_withdrawn_while_its_email_waits_is_not_sent(
    app, smtp, gabrovo, sign_up, make_user, how
):
    """The e-mail would carry a PDF that the verification page denies."""
    withdrawn = attend(sign_up(gabrovo, email="withdrawn@example.bg").registrations[0])
    kept = attend(sign_up(gabrovo, email="kept@example.bg").registrations[0])
    end_event(gabrovo)
    outbox.deliver_all()
    smtp.inbox.wait_for(2)
    smtp.inbox.envelopes.clear()
    assert certificates.send_for_event(gabrovo) == 2
    if how == "revoked":
        certificates.revoke(certificates.for_registration(withdrawn))
    else:
        checkin.undo_check_in(withdrawn, staff=make_user("organiser"))

    outbox.deliver_all()
    db.session.rollback()
    (message,) = smtp.inbox.wait_for(1)
    assert message["To"].addresses[0].addr_spec == kept.registrant.email
    skipped = db.session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.registration_id == withdrawn.id)
        .where(OutboxMessage.kind == MessageKind.CERTIFICATE)
    )
    assert skipped.skip_reason is SkipReason.CERTIFICATE_WITHDRAWN

    # The attendance comes back (the undo was the mistake): sending again mails it this time;
    # a revoked certificate stays unsent.
    attend(db.session.get(Registration, withdrawn.id))
    assert certificates.send_for_event(gabrovo) == (0 if how == "revoked" else 1)
    outbox.deliver_all()
    if how != "revoked":
        (message,) = smtp.inbox.wait_for(2)[1:]
        assert message["To"].addresses[0].addr_spec == "withdrawn@example.bg"
    assert certificates.send_for_event(gabrovo) == 0  # once each


def test_organisers_revoke_and_only_organisers(app, client, auth, make_user, gabrovo, sign_up):
    registration = attend(sign_up(gabrovo).registrations[0])
    end_event(gabrovo)
    certificate = certificates.issue(registration)
    make_user("checkin", "door@example.org")
    auth.login("door@example.org")
    assert client.get(f"/admin/events/{gabrovo.slug}/certificates").status_code == 403
    assert client.post(f"/admin/certificates/{certificate.code}/revoke").status_code == 403
    auth.logout()
    make_user("organiser")
    auth.login("organiser@example.org")

    page = client.get(f"/admin/events/{gabrovo.slug}/certificates")
    assert registration.reference in page.get_data(as_text=True)
    assert client.post(f"/admin/events/{gabrovo.slug}/certificates/send").status_code == 302
    db.session.refresh(certificate)
    assert certificate.sent_at is not None
    client.post(f"/admin/certificates/{certificate.code}/revoke")  # one slip of a click
    db.session.refresh(certificate)
    assert not certificate.is_revoked
    revoked = client.post(f"/admin/certificates/{certificate.code}/revoke", data={"confirm": "y"})
    assert revoked.status_code == 302, revoked.get_data(as_text=True)[:3000]

    db.session.refresh(certificate)
    assert certificate.is_revoked
    assert client.get(f"/certificates/{certificate.code}").status_code == 404
    # Revoked everywhere: no PDF vouches for it, for organisers or the person
    reference = registration.reference
    assert client.get(f"/admin/registrations/{reference}/certificate.pdf").status_code == 404
    assert "certificate.pdf" not in client.get(f"/admin/registrations/{reference}").text
    manage = client.get(f"/manage/{manage_token(registration.registrant)}").text
    assert f"/certificates/{reference}.pdf" not in manage


def test_erased_person_is_in_the_data_copy_then_no_longer_verifiable(app, client, gabrovo, sign_up):
    registrant = sign_up(gabrovo)
    registration = attend(registrant.registrations[0])
    end_event(gabrovo)
    certificate = certificates.issue(registration)

    (exported,) = privacy.export_data(registrant)["certificates"]
    assert exported["code"] == certificate.code
    privacy.erase(registrant)

    page = client.get(f"/certificates/{certificate.code}")
    assert page.status_code == 404
    assert "This certificate is not valid." in page.get_data(as_text=True)


def test_a_multi_day_missions_certificate_counts_its_days_hours(app, make_event, sign_up, tmp_path):
    """Continuing-education bodies need the hours: the days' own, nights left out."""
    rome = ZoneInfo("Europe/Rome")
    days = [
        AgendaDay(datetime(2031, 3, 24, 9, tzinfo=rome), datetime(2031, 3, 24, 18, tzinfo=rome)),
        AgendaDay(
            datetime(2031, 3, 25, 8, 30, tzinfo=rome), datetime(2031, 3, 25, 17, tzinfo=rome)
        ),
        AgendaDay(datetime(2031, 3, 26, 9, tzinfo=rome), datetime(2031, 3, 26, 13, tzinfo=rome)),
    ]
    mission = make_event(starts_at=days[0].starts_at, ends_at=days[-1].ends_at, agenda=days)
    registration = attend(sign_up(mission).registrations[0])
    end_event(mission)
    text = pdf_text(save(certificate_pdf(certificates.issue(registration)), tmp_path))
    assert "21.5 hours" in text  # 9 + 8.5 + 4


def test_an_evening_ending_at_midnight_is_one_day_with_its_hours(
    app, make_event, sign_up, tmp_path
):
    """A webinar from 18:00 to midnight ran on one day: its certificate said it ran over two
    (its end's date is the next day's) and so gave no hours; the figures counted two days."""
    webinar = make_event(mode=EventMode.ONLINE, city=None, venue=None, kind=EventKind.WEBINAR)
    registration = sign_up(webinar).registrations[0]
    rome = ZoneInfo("Europe/Rome")
    end_event(webinar)
    webinar.starts_at = datetime(2026, 11, 5, 18, tzinfo=rome)
    webinar.ends_at = datetime(2026, 11, 6, 0, tzinfo=rome)
    db.session.commit()
    attend(registration)

    assert webinar.local_dates == [datetime(2026, 11, 5).date()]
    days = app.config["FEEDBACK_DAYS"]
    assert feedback.last_day(webinar) == datetime(2026, 11, 5).date() + timedelta(days=days)
    assert not webinar.runs_on(datetime(2026, 11, 6, 0, 30, tzinfo=rome))
    text = pdf_text(save(certificate_pdf(certificates.issue(registration)), tmp_path))
    assert "6 hours" in text
    assert "Thursday, 5 November 2026" in " ".join(text.split())
