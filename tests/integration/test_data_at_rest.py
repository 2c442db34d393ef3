"""Data at rest (issue 16, item 14): data/ is its owner's only (0700) and so is the SQLite
book (0600, its -wal too); the outbox never holds anything that signs someone in: a reset,
welcome or verification mail keeps only its token's hash, and the link is minted at send time."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from core.accounts import recovery, tokens
from core.models import MailOutbox, Token, User
from core.platform import mail
from core.platform.clock import now
from core.platform.config import load
from core.platform.db import make_engine, read_session, unit_of_work

LINK = re.compile(r"\?(reset|verify)=([A-Za-z0-9_\-]+)")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what a fresh shell has: files 0644, folders 0755
    yield
    os.umask(old)


# ------------------------------------------------------------------ file modes
def test_data_dir_is_created_0700_and_an_existing_one_tightened(tmp_path, usual_umask):
    fresh = tmp_path / "data"
    load({}, data_dir=fresh)
    assert mode(fresh) == 0o700
    assert mode(fresh / "cookie.key") == 0o600 and mode(fresh / "secret.key") == 0o600
    checkout = tmp_path / "checkout-data"
    checkout.mkdir(mode=0o755)
    (checkout / "README.md").write_text("data lives here\n")
    load({"COOKIE_KEY": "k" * 40, "SECRET_KEY": "s" * 40}, data_dir=checkout)
    assert mode(checkout) == 0o700


def test_a_shared_folder_is_never_tightened(tmp_path, usual_umask):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # sticky, like /tmp
    load({"COOKIE_KEY": "k" * 40, "SECRET_KEY": "s" * 40}, data_dir=shared)
    assert mode(shared) == 0o1777


def test_the_sqlite_book_is_created_0600_with_its_wal(tmp_path, usual_umask):
    book = tmp_path / "data" / "anfitrion.db"
    engine = make_engine(f"sqlite:///{book}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
        assert mode(book.parent) == 0o700 and mode(book) == 0o600
        wal = book.with_name("anfitrion.db-wal")
        assert wal.exists() and mode(wal) == 0o600  # SQLite copies the book's mode
        assert inspect(engine).get_table_names() == ["t"]
    finally:
        engine.dispose()


def test_an_existing_world_readable_book_is_tightened(tmp_path, usual_umask):
    folder = tmp_path / "srv"
    folder.mkdir(mode=0o755)
    book = folder / "old.db"
    book.touch(mode=0o644)
    engine = make_engine(f"sqlite:///{book}")
    engine.dispose()
    assert mode(book) == 0o600 and mode(folder) == 0o755  # a folder it did not make: left


# ---------------------------------------------------------------- the outbox
def outbox_rows() -> list[MailOutbox]:
    with read_session() as s:
        return list(s.scalars(select(MailOutbox).order_by(MailOutbox.id)))


def live_tokens() -> set[str]:
    with read_session() as s:
        return set(s.scalars(select(Token.token_hash).where(Token.used_at.is_(None))))


def request_reset(personas) -> None:
    recovery.request_reset("a@test.ec", now())


def send_welcome(personas) -> None:
    recovery.send_set_passwordlink(personas.owner.actor, personas.client_a.actor.user_id, now())


def send_verification(personas) -> None:
    with unit_of_work() as s:
        user = s.get_one(User, personas.client_a.actor.user_id)
        recovery.send_verification(s, user, now())


FLOWS = {
    "reset": (request_reset, "reset"),
    "welcome": (send_welcome, "reset"),
    "verify": (send_verification, "verify"),
}


@pytest.mark.parametrize("flow", FLOWS)
def test_a_queued_sign_in_mail_holds_only_the_tokens_hash(personas, smtp, flow):
    make, param = FLOWS[flow]
    make(personas)
    [row] = outbox_rows()
    assert mail.LINK_MARK in row.body_text and f"?{param}={mail.LINK_MARK}" in row.body_text
    assert row.link_token_hash in live_tokens()  # a hash, which opens nothing
    stored = " ".join(str(getattr(row, c.key)) for c in inspect(MailOutbox).columns)
    for candidate in re.findall(r"[A-Za-z0-9_\-]{20,}", stored):
        assert tokens.digest(candidate) not in live_tokens(), "a usable token rests in the outbox"
    # Sent: the mail has a working link; the outbox still has no token, only the new hash.
    assert mail.deliver_due() == {"sent": 1, "failed": 0}
    [body] = smtp.bodies_to("a@test.ec")
    found = LINK.search(body)
    assert found and found.group(1) == param and mail.LINK_MARK not in body
    raw = found.group(2)
    [row] = outbox_rows()
    assert row.status == "sent" and raw not in row.body_text and raw not in row.subject
    assert row.link_token_hash == tokens.digest(raw) and live_tokens() == {row.link_token_hash}
    if param == "reset":
        assert recovery.reset_password(raw, "Recuperada-2026-x", now()) == "a@test.ec"
    else:
        assert recovery.verify_email(raw, now()).email == "a@test.ec"


def test_a_failed_send_is_retried_with_a_link_that_works(personas, smtp):
    smtp.stop()
    recovery.request_reset("a@test.ec", now())
    assert mail.deliver_due() == {"sent": 0, "failed": 1}
    [row] = outbox_rows()
    assert row.status == "queued" and row.link_token_hash in live_tokens()
    assert mail.LINK_MARK in row.body_text
    smtp.start()
    assert mail.deliver_due(at=row.next_attempt_at) == {"sent": 1, "failed": 0}
    raw = LINK.search(smtp.bodies_to("a@test.ec")[0]).group(2)
    assert recovery.reset_link_is_valid(raw, now())


def test_a_link_that_expired_before_it_could_be_sent_is_not_sent(personas, smtp):
    recovery.request_reset("a@test.ec", now())
    assert mail.deliver_due(at=now() + timedelta(hours=2)) == {"sent": 0, "failed": 1}
    assert smtp.messages == []
    [row] = outbox_rows()
    assert row.status == "failed" and row.link_token_hash is None


def test_a_look_alike_link_typed_by_someone_is_mailed_as_typed(personas, smtp):
    typed = "https://example.test/?reset=" + "A" * 43  # no token of ours
    with unit_of_work() as s:
        mail.queue(s, to_addr="a@test.ec", template="welcome", language="es", name="A", link=typed)
    [row] = outbox_rows()
    assert row.link_token_hash is None and typed in row.body_text
    assert mail.deliver_due() == {"sent": 1, "failed": 0}
    assert typed in smtp.bodies_to("a@test.ec")[0]


def test_the_owner_reads_a_queued_sign_in_mail_without_its_token(personas):
    recovery.request_reset("a@test.ec", now())
    [shown] = mail.outbox(personas.owner.actor)
    assert "?reset=…" in shown.body_text and mail.LINK_MARK not in shown.body_text


def test_the_migration_takes_links_already_in_the_outbox_out(tmp_path):
    from core.platform.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0031")
    queued, sent = "Q" * 43, "S" * 43
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for status, raw in (("queued", queued), ("sent", sent)):
                conn.execute(
                    text(
                        "INSERT INTO mail_outbox (to_addr, subject, body_text, template, "
                        "language, status, attempts, next_attempt_at, created_at) VALUES "
                        "('a@test.ec', 'Clave', :body, 'password_reset', 'es', :status, 0, "
                        "'2026-12-01 10:00:00', '2026-12-01 10:00:00')"
                    ),
                    {"body": f"Abra https://x.test/?reset={raw} pronto.", "status": status},
                )
        upgrade(url, "0034")
        with engine.connect() as conn:
            rows = dict(
                conn.execute(
                    text(
                        "SELECT status, body_text || '|' || coalesce(link_token_hash, '') "
                        "FROM mail_outbox"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    assert rows["queued"] == f"Abra https://x.test/?reset={mail.LINK_MARK} pronto.|" + (
        tokens.digest(queued)
    )
    assert rows["sent"] == "Abra https://x.test/?reset=… pronto.|"


def test_without_smtp_the_owner_hands_a_sign_in_link_over_once(personas):
    from core.models import AuditEntry
    from core.platform.errors import Forbidden, NotFound

    recovery.send_set_passwordlink(personas.owner.actor, personas.client_a.actor.user_id, now())
    [row] = outbox_rows()
    for other in (personas.staff.actor, personas.client_a.actor, personas.client_b.actor):
        with pytest.raises(Forbidden):
            mail.hand_over(other, row.id, now())
    handed = mail.hand_over(personas.owner.actor, row.id, now())
    raw = LINK.search(handed.body_text).group(2)
    assert recovery.reset_link_is_valid(raw, now())
    [row] = outbox_rows()
    assert row.status == "sent" and raw not in row.body_text
    assert row.link_token_hash == tokens.digest(raw)
    with read_session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "mail.link_handed_over"))
        assert entry.one().details["to"] == "a@test.ec"
    with pytest.raises(NotFound):  # once: it is sent now
        mail.hand_over(personas.owner.actor, row.id, now())
