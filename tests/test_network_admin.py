"""Organisers and the network: moderation, announcements with unsubscribe headers,
statistics, topics and the export of listed members."""

import csv
import io
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventreg.extensions import db
from eventreg.models import (
    ContactRequest,
    Member,
    MemberStatus,
    MessageKind,
    OutboxMessage,
    TargetGroup,
    Topic,
    utcnow,
)
from eventreg.services import member_contact, outbox, privacy
from tests.support.mail import smtp_config


@pytest.fixture
def app_config(smtp):
    return smtp_config(smtp)


@pytest.fixture
def make_member(app):
    def _make(email, status=MemberStatus.ACTIVE, **values):
        member = Member(
            email=email,
            name=values.pop("name", email.split("@")[0].title()),
            organisation=values.pop("organisation", "Comune di Bergamo"),
            country=values.pop("country", "IT"),
            target_group=values.pop("target_group", TargetGroup.PUBLIC_BODY),
            language=values.pop("language", "en"),
            status=status,
            confirmed_at=None if status is MemberStatus.PENDING else utcnow(),
            **values,
        )
        db.session.add(member)
        db.session.commit()
        return member

    return _make


@pytest.fixture
def organiser(client, make_user, auth):
    make_user("organiser")
    auth.login("organiser@example.org")
    return client


def test_hiding_takes_a_profile_out_of_directory_and_public_page(organiser, make_member, app):
    anna = make_member("anna@example.se", public_fields=["name"], name="Anna Berg")
    assert "Anna Berg" in organiser.get("/network").text
    organiser.post(f"/network/admin/members/{anna.id}/hide")
    db.session.refresh(anna)
    assert anna.is_hidden
    assert "Anna Berg" not in organiser.get("/network").text
    assert organiser.get(f"/network/members/{anna.id}").status_code == 404
    organiser.post(f"/network/admin/members/{anna.id}/show")
    db.session.refresh(anna)
    assert anna.is_active


def test_removing_deletes_the_profile_once_the_box_is_ticked(organiser, make_member, app):
    anna_id = make_member("anna@example.se", name="Anna Berg").id
    page = organiser.get("/network/admin").text
    assert f'id="confirm-remove-{anna_id}"' in page and "Yes, delete this profile" in page
    response = organiser.post(f"/network/admin/members/{anna_id}/remove")  # the button alone
    assert response.headers["Location"] == "/network/admin"
    assert db.session.get(Member, anna_id) is not None
    page = organiser.get("/network/admin").text
    assert "Tick the box to confirm that the profile is deleted." in page
    organiser.post(f"/network/admin/members/{anna_id}/remove", data={"confirm": "y"})
    assert db.session.get(Member, anna_id) is None


def test_announcements_reach_confirmed_members_with_unsubscribe_headers(
    organiser, make_member, smtp, app
):
    make_member("anna@example.se", language="sv")
    make_member("pending@example.org", status=MemberStatus.PENDING)
    make_member("lars@example.dk", name="Lars Holm", receives_mail=False)  # stopped them
    page = organiser.get("/network/admin").text
    assert page.count("E-mails stopped") == 1 and "Active · E-mails stopped" in page
    response = organiser.post(
        "/network/admin/announce", data={"subject": "Webinar in May", "text": "Join us."}
    )
    assert response.status_code == 302
    assert "on its way to 1 members" in organiser.get("/network/admin").text
    outbox.deliver_all()
    db.session.rollback()
    (message,) = smtp.inbox.wait_for(1)
    assert message["Subject"] == "Webinar in May"
    assert message["To"].addresses[0].addr_spec == "anna@example.se"
    assert message["List-Unsubscribe"].startswith("<http://eventreg.test/network/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Join us." in message.get_body(("plain",)).get_content()


def test_an_announcement_sent_twice_by_a_double_click_goes_once(organiser, make_member, app):
    make_member("anna@example.se")
    data = {"subject": "Webinar in May", "text": "Join us."}
    organiser.post("/network/admin/announce", data=data)
    again = organiser.post("/network/admin/announce", data=data, follow_redirects=True)
    assert "it is not sent twice" in again.text
    organiser.post("/network/admin/announce", data=data | {"text": "Join us on 12 May."})
    texts = db.session.scalars(
        select(OutboxMessage.params).where(OutboxMessage.kind == MessageKind.NETWORK_ANNOUNCEMENT)
    ).all()
    assert sorted(params["text"] for params in texts) == ["Join us on 12 May.", "Join us."]


def test_an_empty_announcement_is_refused(organiser, make_member, app):
    make_member("anna@example.se")
    response = organiser.post("/network/admin/announce", data={"subject": "", "text": ""})
    assert response.status_code == 422
    assert "Enter a subject." in response.text


def test_statistics_count_members_by_country_group_topic_and_month(organiser, make_member, app):
    topic = Topic(key="urban-gardens", label="Urban gardens")
    db.session.add(topic)
    make_member("anna@example.se", country="SE", topics=[topic])
    make_member("lars@example.dk", country="DK", target_group=TargetGroup.BUSINESS)
    make_member("pending@example.org", status=MemberStatus.PENDING)
    page = organiser.get("/network/admin").text
    assert "2 members" in page and "1 waiting for confirmation" in page
    assert "Sweden: 1" in page and "Denmark: 1" in page
    assert "Business: 1" in page and "Urban gardens: 1" in page
    assert f"{utcnow():%Y-%m}: 2" in page


def test_organisers_extend_the_topics(organiser, app):
    response = organiser.post("/network/admin/topics", data={"name": "Circular economy"})
    assert response.status_code == 302
    assert db.session.scalar(select(Topic).where(Topic.label == "Circular economy"))
    response = organiser.post("/network/admin/topics", data={"name": "circular economy"})
    assert response.status_code == 422
    assert "already on the list" in response.text
    assert "Circular economy" in organiser.get("/network/join").text


def test_the_export_lists_only_members_who_agreed_with_their_public_fields(
    organiser, make_member, app
):
    make_member(
        "anna@example.se",
        name="=HYPERLINK(1)",
        public_fields=["name", "country"],
        country="SE",
        role="Secret role",
    )
    make_member("lars@example.dk", name="Lars Holm")
    response = organiser.get("/network/admin/members.csv")
    assert response.data.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["name"] == "'=HYPERLINK(1)"
    assert rows[0]["country"] == "SE" and rows[0]["Country"] == "Sweden"
    assert rows[0]["role"] == "" and rows[0]["target_group"] == rows[0]["Target group"] == ""
    assert "anna@example.se" not in response.text


def test_the_member_export_opens_in_excel_with_labels_in_the_organisers_language(
    organiser, make_member, app
):
    make_member(
        "soren@example.dk",
        name="Søren Jørgensen",
        country="DK",
        target_group=TargetGroup.SOCIAL_ECONOMY,
        languages=["da", "en"],
        public_fields=["name", "country", "target_group", "languages"],
    )
    make_member("ivan@example.bg", name="Иван Петров", country="BG", public_fields=["name"])
    response = organiser.get("/network/admin/members.csv", headers={"Accept-Language": "it"})
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == (
        '"name","organisation","country","target_group","role","topics","languages",'
        '"Paese","Gruppo destinatario","Lingue parlate"'
    )
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(text))}
    soren = rows["Søren Jørgensen"]
    assert soren["country"] == "DK" and soren["Paese"] == "Danimarca"
    assert soren["target_group"] == "social_economy"
    assert soren["Gruppo destinatario"] == "Soggetto dell'economia sociale"
    assert soren["languages"] == "da en" and soren["Lingue parlate"] == "Dansk, English"
    assert rows["Иван Петров"]["Paese"] == ""  # not made public


@pytest.mark.parametrize(
    "path",
    [
        "/network/admin",
        "/network/admin/announce",
        "/network/admin/topics",
        "/network/admin/members.csv",
    ],
)
@pytest.mark.parametrize("role", [None, "checkin"])
def test_organiser_pages_of_the_network_are_for_organisers(client, make_user, auth, path, role):
    if role:
        make_user(role)
        auth.login(f"{role}@example.org")
    assert client.get(path).status_code in (302, 403)


@pytest.mark.parametrize("role", [None, "checkin"])
def test_only_organisers_moderate_and_announce(client, make_user, auth, make_member, role, app):
    anna = make_member("anna@example.se")
    if role:
        make_user(role)
        auth.login(f"{role}@example.org")
    for action in ("hide", "remove"):
        response = client.post(f"/network/admin/members/{anna.id}/{action}")
        assert response.status_code in (302, 403)
        assert response.headers.get("Location", "/login").startswith("/login")
    response = client.post("/network/admin/announce", data={"subject": "S", "text": "T"})
    assert response.status_code in (302, 403)
    db.session.refresh(anna)
    assert anna.is_active
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_simultaneous_messages_never_exceed_the_daily_limit(app, make_member):
    app.config["NETWORK_CONTACT_PER_DAY"] = 2
    sender_id = make_member("lars@example.dk").id
    recipient_ids = [make_member(f"member{n}@example.org").id for n in range(6)]
    start = threading.Barrier(len(recipient_ids))
    refused = []

    def write(recipient_id):
        with app.app_context():
            start.wait()
            try:
                member_contact.send(
                    db.session.get(Member, sender_id), db.session.get(Member, recipient_id), "Hi"
                )
            except member_contact.ContactRefused as exc:
                refused.append(exc.reason)

    threads = [threading.Thread(target=write, args=(r,)) for r in recipient_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ContactRequest)) == 2
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    assert refused == ["limit"] * 4


def test_the_purge_deletes_joins_never_confirmed_after_thirty_days(app, make_member):
    stale = make_member("stale@example.org", status=MemberStatus.PENDING)
    stale.created_at = stale.consent_at = utcnow() - timedelta(days=31)  # joined then, once
    fresh = make_member("fresh@example.org", status=MemberStatus.PENDING)
    old_active = make_member("active@example.org")
    old_active.created_at = utcnow() - timedelta(days=400)
    db.session.commit()
    ids = stale.id, fresh.id, old_active.id
    privacy.purge()
    db.session.rollback()
    assert [db.session.get(Member, i) is not None for i in ids] == [False, True, True]
