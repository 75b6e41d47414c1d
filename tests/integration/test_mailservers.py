"""The mail-server fixtures themselves, proven with stdlib clients (imapclient only for IDLE)."""

from __future__ import annotations

import asyncio
import imaplib
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from imapclient import IMAPClient

from tests.integration import mailservers
from tests.integration.mailservers import DovecotServer, SmtpServer, TlsCert

TIMEOUT = 5


def raw_message(subject: str = "Printer on fire", body: str = "Send help.") -> bytes:
    return (
        f"From: Ada <ada@example.com>\r\n"
        f"To: support@desk.test\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '.')}@example.com>\r\n"
        f"\r\n"
        f"{body}\r\n"
    ).encode()


def fetch_flags(imap: imaplib.IMAP4, uid: int) -> bytes:
    typ, data = imap.uid("FETCH", str(uid), "(FLAGS)")
    assert typ == "OK"
    return data[0]


# ---------------------------------------------------------------------------------- IMAP


def test_login_on_plain_starttls_and_tls_ports(dovecot: DovecotServer) -> None:
    plain = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    assert "STARTTLS" in plain.capabilities
    assert plain.login(dovecot.user, dovecot.password)[0] == "OK"
    plain.logout()

    ctx = ssl.create_default_context(cafile=str(dovecot.cafile))
    starttls = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    starttls.starttls(ssl_context=ctx)
    assert starttls.login(dovecot.user, dovecot.password)[0] == "OK"
    starttls.logout()

    # The cert names both localhost and 127.0.0.1, and passes strict X.509 checks.
    strict = ssl.create_default_context(cafile=str(dovecot.cafile))
    strict.verify_flags |= ssl.VERIFY_X509_STRICT
    for host in ("localhost", "127.0.0.1"):
        tls = imaplib.IMAP4_SSL(host, dovecot.tls_port, ssl_context=strict, timeout=TIMEOUT)
        assert tls.login(dovecot.user, dovecot.password)[0] == "OK"
        tls.logout()

    # Unverified TLS is refused: the cert is not in the system store.
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(
            "localhost", dovecot.tls_port, ssl_context=ssl.create_default_context(), timeout=5
        )


def test_wrong_password_is_refused_fast(dovecot: DovecotServer) -> None:
    started = time.monotonic()
    for _ in range(4):  # no auth_failure_delay, no growing anvil penalty
        imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            imap.login(dovecot.user, "wrong")
        imap.shutdown()
    assert time.monotonic() - started < 3


def test_deliver_returns_uid_and_fetch_returns_the_bytes(dovecot: DovecotServer) -> None:
    first, second = raw_message("one"), raw_message("two")
    assert dovecot.deliver(first) == 1
    assert dovecot.deliver(second) == 2

    imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    imap.login(dovecot.user, dovecot.password)
    imap.select("INBOX")
    typ, data = imap.uid("FETCH", "2", "(BODY.PEEK[])")
    assert typ == "OK"
    assert data[0][1] == second
    assert b"\\Seen" not in fetch_flags(imap, 2)
    imap.logout()

    assert dovecot.uids() == [1, 2]
    assert dovecot.fetch(1) == first
    assert dovecot.flags(1) == set()
    # Bare LF in, CRLF out (as a real MTA + IMAP server would serve it).
    uid = dovecot.deliver(b"Subject: lf\n\nline\n")
    assert dovecot.fetch(uid) == b"Subject: lf\r\n\r\nline\r\n"


def test_seen_set_by_another_client_is_visible(dovecot: DovecotServer) -> None:
    uid = dovecot.deliver(raw_message())
    imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    imap.login(dovecot.user, dovecot.password)
    imap.select("INBOX")
    assert b"\\Seen" not in fetch_flags(imap, uid)

    dovecot.mark_seen(uid)

    imap.noop()
    assert b"\\Seen" in fetch_flags(imap, uid)
    imap.logout()
    assert dovecot.flags(uid) == {"\\Seen"}

    already_read = dovecot.deliver(raw_message("read on the phone"), seen=True)
    assert dovecot.flags(already_read) == {"\\Seen"}
    dovecot.mark_unseen(already_read)
    assert dovecot.flags(already_read) == set()
    assert dovecot.status()["UNSEEN"] == 1


def test_idle_client_hears_exists_within_2s(dovecot: DovecotServer) -> None:
    client = IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=TIMEOUT)
    try:
        client.login(dovecot.user, dovecot.password)
        client.select_folder("INBOX")
        client.idle()
        started = time.monotonic()
        uid = dovecot.deliver(raw_message())
        exists = []
        while not exists and time.monotonic() - started < 2:
            responses = client.idle_check(timeout=0.5)
            exists = [r for r in responses if r[1:2] == (b"EXISTS",)]
        elapsed = time.monotonic() - started
        client.idle_done()
        assert exists == [(1, b"EXISTS")], f"no EXISTS after {elapsed:.2f}s"
        assert elapsed < 2
        assert client.search(["UID", uid]) == [uid]
    finally:
        client.shutdown()


def test_restart_drops_clients_and_keeps_data(dovecot: DovecotServer) -> None:
    uid = dovecot.deliver(raw_message())
    dovecot.mark_seen(uid)
    ports = (dovecot.port, dovecot.tls_port)
    validity = dovecot.uidvalidity()
    imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    imap.login(dovecot.user, dovecot.password)
    imap.select("INBOX")

    dovecot.restart()

    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        imap.noop()
    assert (dovecot.port, dovecot.tls_port) == ports
    fresh = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    assert fresh.login(dovecot.user, dovecot.password)[0] == "OK"
    fresh.logout()
    assert dovecot.uids() == [uid]
    assert dovecot.flags(uid) == {"\\Seen"}
    assert dovecot.uidvalidity() == validity


def test_stop_start_and_kill(dovecot: DovecotServer) -> None:
    uid = dovecot.deliver(raw_message())
    dovecot.stop()
    assert not dovecot.running
    with pytest.raises(OSError):
        imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    dovecot.start()

    imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    imap.login(dovecot.user, dovecot.password)
    imap.select("INBOX")
    dovecot.kill()  # crash: no BYE, the TCP connection just dies
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        imap.noop()
    dovecot.start()
    assert dovecot.uids() == [uid]


def test_freeze_makes_clients_time_out_and_thaw_resumes(dovecot: DovecotServer) -> None:
    imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    imap.login(dovecot.user, dovecot.password)
    imap.select("INBOX")
    dovecot.freeze()
    try:
        imap.sock.settimeout(0.5)
        with pytest.raises((TimeoutError, imaplib.IMAP4.abort)):
            imap.noop()
        with pytest.raises((TimeoutError, imaplib.IMAP4.abort)):  # connects, never greeted
            imaplib.IMAP4(dovecot.host, dovecot.port, timeout=0.5)
    finally:
        dovecot.thaw()
    fresh = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    assert fresh.login(dovecot.user, dovecot.password)[0] == "OK"
    fresh.logout()


def test_idle_keepalive_is_configurable(dovecot_factory: Callable[..., DovecotServer]) -> None:
    server = dovecot_factory(idle_keepalive="1 secs")
    client = IMAPClient(server.host, port=server.port, ssl=False, timeout=TIMEOUT)
    try:
        client.login(server.user, server.password)
        client.select_folder("INBOX")
        client.idle()
        responses = client.idle_check(timeout=3)
        client.idle_done()
        assert (b"OK", b"Still here") in responses
    finally:
        client.shutdown()


def test_recreate_folder_changes_uidvalidity_and_keeps_messages(dovecot: DovecotServer) -> None:
    uids = [dovecot.deliver(raw_message(f"m{i}")) for i in range(3)]
    dovecot.mark_seen(uids[1])
    before = dovecot.uidvalidity()
    watcher = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    watcher.login(dovecot.user, dovecot.password)
    watcher.select("INBOX")

    after = dovecot.recreate_folder()

    assert after != before
    # A client with the folder selected is thrown out, as dovecot does for real.
    with pytest.raises((imaplib.IMAP4.abort, OSError)):
        watcher.noop()
        watcher.noop()
    imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    imap.login(dovecot.user, dovecot.password)
    typ, data = imap.select("INBOX")
    assert imap.untagged_responses["UIDVALIDITY"] == [str(after).encode()]
    assert data == [b"3"]
    imap.logout()
    assert dovecot.uids() == uids
    assert [dovecot.fetch(u) for u in uids] == [raw_message(f"m{i}") for i in range(3)]
    assert dovecot.flags(uids[1]) == {"\\Seen"}


def test_recreate_folder_renumbered_in_a_subfolder(dovecot: DovecotServer) -> None:
    dovecot.create_folder("Support Queue")
    assert "Support Queue" in dovecot.folders()
    uids = [dovecot.deliver(raw_message(f"q{i}"), folder="Support Queue") for i in range(3)]
    assert uids == [1, 2, 3]
    dovecot.expunge(1, folder="Support Queue")
    dovecot.mark_seen(3, folder="Support Queue")
    before = dovecot.uidvalidity("Support Queue")

    after = dovecot.recreate_folder("Support Queue", renumber=True)

    assert after != before
    assert dovecot.uids("Support Queue") == [1, 2]  # rescanned, numbered afresh
    assert dovecot.fetch(1, "Support Queue") == raw_message("q1")
    assert dovecot.fetch(2, "Support Queue") == raw_message("q2")
    assert dovecot.flags(2, "Support Queue") == {"\\Seen"}
    assert dovecot.uids() == []  # INBOX untouched


def test_recreate_inbox_renumbered(dovecot: DovecotServer) -> None:
    for i in range(2):
        dovecot.deliver(raw_message(f"r{i}"))
    before = dovecot.uidvalidity()
    after = dovecot.recreate_folder("INBOX", renumber=True)
    assert after != before
    assert [dovecot.fetch(u) for u in dovecot.uids()] == [raw_message(f"r{i}") for i in range(2)]


def test_more_users_and_password_change(dovecot: DovecotServer) -> None:
    dovecot.add_user("billing", "b-secret")
    imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    assert imap.login("billing", "b-secret")[0] == "OK"
    imap.logout()

    dovecot.add_user(dovecot.user, "rotated")
    assert dovecot.password == "rotated"
    imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    with pytest.raises(imaplib.IMAP4.error):
        imap.login(dovecot.user, "wrong")
    imap.shutdown()
    imap = imaplib.IMAP4(dovecot.host, dovecot.port, timeout=TIMEOUT)
    assert imap.login(dovecot.user, "rotated")[0] == "OK"
    imap.logout()


def test_missing_dovecot_fails_under_ci_and_skips_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mailservers, "find_binary", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        mailservers.require_dovecot()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="dovecot-imapd"):
        mailservers.require_dovecot()


# ---------------------------------------------------------------------------------- SMTP


def outgoing(subject: str = "Re: Printer on fire") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "support@desk.test"
    msg["To"] = "ada@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = "<reply-1@desk.test>"
    msg.set_content("Extinguisher is on its way.\n")
    return msg


def test_smtp_records_envelope_and_headers(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=TIMEOUT) as smtp:
        smtp.send_message(outgoing(), to_addrs=["ada@example.com", "cc@example.com"])

    [got] = smtp_server.wait_for(1)
    assert got.mail_from == "support@desk.test"
    assert got.rcpt_tos == ("ada@example.com", "cc@example.com")
    assert got.message["Subject"] == "Re: Printer on fire"
    assert got.message["Message-ID"] == "<reply-1@desk.test>"
    assert got.message.get_content() == "Extinguisher is on its way.\n"
    assert got.raw.startswith(b"From: support@desk.test\r\n")
    assert got.login is None
    assert not got.tls


def test_smtp_transient_failure_once_then_success(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next("451 4.3.0 try again later")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=TIMEOUT) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as err:
            smtp.send_message(outgoing())
        assert err.value.smtp_code == 451
        assert b"try again later" in err.value.smtp_error
        smtp.send_message(outgoing())
    assert len(smtp_server.wait_for(1)) == 1
    assert [m.response for m in smtp_server.rejected] == ["451 4.3.0 try again later"]


def test_smtp_permanent_failure_and_counted_failures(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next("550 5.1.1 mailbox unavailable")
    smtp_server.fail_next("451 4.3.0 try again later", times=2)
    codes = []
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=TIMEOUT) as smtp:
        for _ in range(4):
            try:
                smtp.send_message(outgoing())
                codes.append(250)
            except smtplib.SMTPDataError as e:
                codes.append(e.smtp_code)
    assert codes == [550, 451, 451, 250]
    assert len(smtp_server.messages) == 1


def test_smtp_rcpt_stage_failure(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next("550 5.1.1 no such user", stage="rcpt")
    with (
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=TIMEOUT) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        smtp.send_message(outgoing())
    assert smtp_server.messages == []


def test_smtp_auth_required(smtp_server_factory: Callable[..., SmtpServer]) -> None:
    server = smtp_server_factory(auth=("desk", "s3cret"))
    with smtplib.SMTP(server.host, server.port, timeout=TIMEOUT) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("auth")
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # no AUTH yet
            smtp.send_message(outgoing())
        assert refused.value.smtp_code == 530
        with pytest.raises(smtplib.SMTPAuthenticationError) as bad:
            smtp.login("desk", "wrong")
        assert bad.value.smtp_code == 535
        smtp.login("desk", "s3cret")
        smtp.send_message(outgoing())
    [got] = server.wait_for(1)
    assert got.login == "desk"
    # smtplib tries PLAIN, then LOGIN, before giving up on a wrong password.
    assert server.auth_attempts == [
        ("PLAIN", "desk", False),
        ("LOGIN", "desk", False),
        ("PLAIN", "desk", True),
    ]

    for mechanism in ("LOGIN", "PLAIN"):
        with smtplib.SMTP(server.host, server.port, timeout=TIMEOUT) as smtp:
            smtp.ehlo()
            smtp.user, smtp.password = "desk", "s3cret"
            code, _ = smtp.auth(mechanism, getattr(smtp, f"auth_{mechanism.lower()}"))
            assert code == 235


def test_smtp_starttls_verified(smtp_server: SmtpServer, mail_tls_cert: TlsCert) -> None:
    ctx = ssl.create_default_context(cafile=str(mail_tls_cert.cert))
    with smtplib.SMTP("localhost", smtp_server.port, timeout=TIMEOUT) as smtp:
        smtp.starttls(context=ctx)
        smtp.send_message(outgoing())
    [got] = smtp_server.wait_for(1)
    assert got.tls


async def test_smtp_wait_for_async_does_not_block_the_loop(smtp_server: SmtpServer) -> None:
    def send() -> None:
        with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=TIMEOUT) as smtp:
            smtp.send_message(outgoing())

    sender = asyncio.get_running_loop().run_in_executor(None, send)
    [got] = await smtp_server.wait_for_async(1)
    await sender
    assert got.message["Subject"] == "Re: Printer on fire"
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await smtp_server.wait_for_async(2)


def test_smtp_wait_for_is_bounded(smtp_server: SmtpServer) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="got 0 message"):
        smtp_server.wait_for(1, timeout=0.2)
    assert time.monotonic() - started < 1
