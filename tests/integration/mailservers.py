"""Real mail servers for integration tests.

* :class:`DovecotServer` runs a throwaway Dovecot (IMAP) on 127.0.0.1 with its own config,
  ``base_dir``, log and Maildir: a plain port (STARTTLS offered, plaintext LOGIN allowed) and an
  implicit-TLS port, both with a self-signed certificate made for the test session.
* :class:`SmtpServer` runs aiosmtpd in-process on 127.0.0.1, records what it accepts and can be
  told to refuse the next messages.

The pytest fixtures live in ``conftest.py`` next to this file; this module is plain Python so a
test can also build servers by hand.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import grp
import imaplib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from imapclient import imap_utf7

LOCALHOST = "127.0.0.1"
# Every network operation of the helpers is bounded by this many seconds.
IO_TIMEOUT = 5.0
# Dovecot lives in /usr/sbin, which an unprivileged PATH may lack.
_SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin", "/usr/sbin", "/sbin"])


# --------------------------------------------------------------------------------------------
# Shared bits


class MailServerError(RuntimeError):
    """A test mail server could not be started or driven."""


def find_binary(name: str) -> str | None:
    """Path of ``name`` on PATH or in the sbin folders, or None."""
    return shutil.which(name, path=_SBIN_PATH)


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port that was free a moment ago (the caller retries if someone takes it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_ports(n: int, host: str = LOCALHOST) -> list[int]:
    """``n`` different free ports: each socket stays bound until all are chosen (two calls of
    ``free_port`` can return the same port, and Dovecot then refuses a duplicate listener)."""
    with contextlib.ExitStack() as stack:
        socks = [
            stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(n)
        ]
        for s in socks:
            s.bind((host, 0))
        return [s.getsockname()[1] for s in socks]


def _is_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@dataclass(frozen=True)
class TlsCert:
    """A self-signed certificate for localhost and 127.0.0.1; ``cert`` doubles as the CA file."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context (hostname checked, strict X.509) trusting this cert."""
        ctx = ssl.create_default_context(cafile=str(self.cert))
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT
        return ctx


def make_self_signed_cert(directory: Path) -> TlsCert:
    """Write ``cert.pem``/``key.pem`` into ``directory``: valid one day, SAN localhost+127.0.0.1.

    Uses the ``cryptography`` package when importable, else the ``openssl`` command.
    """
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    try:
        _cert_with_cryptography(cert_path, key_path)
    except ImportError:
        openssl = find_binary("openssl")
        if openssl is None:
            raise MailServerError("need the cryptography package or openssl for a cert") from None
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", str(key_path), "-out", str(cert_path)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
    key_path.chmod(0o600)
    return TlsCert(cert=cert_path, key=key_path)


def _cert_with_cryptography(cert_path: Path, key_path: Path) -> None:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOCALHOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=True,
                key_cert_sign=True,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


# --------------------------------------------------------------------------------------------
# Dovecot


def require_dovecot() -> tuple[str, str]:
    """Paths of ``dovecot`` and ``doveadm``; fail the test under CI when missing, else skip."""
    import pytest

    dovecot, doveadm = find_binary("dovecot"), find_binary("doveadm")
    if dovecot and doveadm:
        return dovecot, doveadm
    reason = (
        "dovecot/doveadm not installed (Debian package dovecot-imapd; scripts/test installs it "
        "when run as root)"
    )
    if _is_ci():
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    print(f"SKIP: {reason}")
    pytest.skip(reason)
    raise AssertionError("unreachable")  # pragma: no cover


def _mailbox_arg(name: str) -> bytes:
    """An IMAP mailbox argument: modified UTF-7, always quoted."""
    raw = imap_utf7.encode(name)
    return b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _ok(result: tuple[str, list[Any]], what: str) -> list[Any]:
    typ, data = result
    if typ != "OK":
        raise MailServerError(f"IMAP {what} failed: {typ} {data!r}")
    return data


_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delim>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.*)$')
_FETCH_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")


def _unquote(atom: bytes) -> bytes:
    if atom.startswith(b'"') and atom.endswith(b'"'):
        return re.sub(rb"\\(.)", rb"\1", atom[1:-1])
    return atom


class DovecotServer:
    """One private Dovecot instance on 127.0.0.1 with one mail user (more via ``add_user``).

    Attributes: ``host``, ``port`` (plain IMAP, STARTTLS offered), ``tls_port`` (implicit TLS),
    ``cafile`` (verify TLS against it; the cert names ``localhost`` and ``127.0.0.1``),
    ``user``, ``password``, ``maildir``, ``root``, ``conf_path``, ``log_path``.

    Ports and data survive ``stop()``/``start()``/``restart()``. Every helper opens its own short
    IMAP session (it is "another client"), bounded by :data:`IO_TIMEOUT`.
    """

    def __init__(
        self,
        cert: TlsCert,
        *,
        root: Path | None = None,
        user: str = "support",
        password: str | None = None,
        idle_keepalive: str = "2 mins",
        start_timeout: float = 10.0,
    ) -> None:
        dovecot_bin, doveadm_bin = find_binary("dovecot"), find_binary("doveadm")
        if not (dovecot_bin and doveadm_bin):
            raise MailServerError("dovecot/doveadm not installed (Debian: dovecot-imapd)")
        self.dovecot_bin, self.doveadm_bin = dovecot_bin, doveadm_bin
        self.host = LOCALHOST
        self.cert = cert
        self.cafile = cert.cert
        self.user = user
        self.password = password or secrets.token_urlsafe(12)
        self.idle_keepalive = idle_keepalive
        self.start_timeout = start_timeout
        # A short private folder: dovecot's unix sockets live in it (108-byte path limit), and
        # its unprivileged helpers must be able to reach it (pytest's tmp is root-only, 0700).
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-")) if root is None else root
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self.conf_path = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self.stderr_path = self.root / "dovecot.stderr"
        self.passwd_path = self.root / "passwd"
        self.home_root = self.root / "home"
        self.port, self.tls_port = free_ports(2)
        self._ports_pinned = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._users: dict[str, str] = {user: self.password}
        self._setup_identity()
        self.home_root.mkdir(exist_ok=True)
        os.chown(self.home_root, self._mail_uid, self._mail_gid)
        self._write_passwd()

    # -- identity & config ----------------------------------------------------------------

    def _setup_identity(self) -> None:
        if os.geteuid() == 0:
            # Dovecot never runs mail processes as uid 0: use an unprivileged system user.
            for name in ("mail", "nobody"):
                with contextlib.suppress(KeyError):
                    pw = pwd.getpwnam(name)
                    self._mail_uid, self._mail_gid = pw.pw_uid, pw.pw_gid
                    break
            else:  # pragma: no cover - every Debian has both
                raise MailServerError("no unprivileged user (mail/nobody) for mail processes")
            self._root_mode = True
        else:
            self._mail_uid, self._mail_gid = os.getuid(), os.getgid()
            self._root_mode = False

    def _write_passwd(self) -> None:
        for user, password in self._users.items():
            if any(c in user + password for c in ":\n\r"):
                raise ValueError("user names and passwords must not contain ':' or newlines")
        lines = [f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self._users.items()]
        tmp = self.passwd_path.with_suffix(".tmp")
        tmp.write_text("".join(lines))
        tmp.chmod(0o644)
        tmp.replace(self.passwd_path)  # dovecot re-reads it when it changes (checked each sec)

    def _config(self) -> str:
        if self._root_mode:
            # Login processes and internal services run as the package's unprivileged users.
            login_user = _first_user("dovenull", "nobody")
            internal = pwd.getpwnam(_first_user("dovecot", "nobody"))
        else:  # everything runs as us; chroot needs root
            login_user = pwd.getpwuid(os.getuid()).pw_name
            internal = pwd.getpwuid(os.getuid())
        identity = f"""\
default_login_user = {login_user}
default_internal_user = {internal.pw_name}
default_internal_group = {grp.getgrgid(internal.pw_gid).gr_name}
"""
        chroot = "" if self._root_mode else "  chroot =\n"
        return f"""\
# Written by tests/integration/mailservers.py; throwaway.
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = test-{self.root.name}
log_path = {self.log_path}
protocols = imap
listen = {self.host}
ssl = yes
ssl_cert = <{self.cert.cert}
ssl_key = <{self.cert.key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
{identity}first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
# New mail reaches IDLE clients at once through inotify; this is the polling fallback.
mailbox_idle_check_interval = 1 secs
# Only the "* OK Still here" keepalive during IDLE, not the new-mail notification.
imap_idle_notify_interval = {self.idle_keepalive}
service imap-login {{
{chroot}  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.tls_port}
    ssl = yes
  }}
}}
# No anvil auth penalty: failed logins from loopback would otherwise wait 2, 4, 8... secs.
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_path}
}}
userdb {{
  driver = static
  args = uid={self._mail_uid} gid={self._mail_gid} home={self.home_root}/%u
}}
"""

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def maildir(self) -> Path:
        return self.home_root / self.user / "Maildir"

    def start(self) -> None:
        """Start dovecot in the foreground; return once a LOGIN works (else raise, log attached)."""
        if self.running:
            return
        for _attempt in range(5):
            self.conf_path.write_text(self._config())
            marks = self._log_marks()
            proc = self._spawn()
            try:
                self._wait_ready(proc, marks)
            except _PortInUse:
                self._terminate(proc, graceful=False)
                if self._ports_pinned:
                    raise MailServerError(
                        f"dovecot cannot rebind its ports {self.port}/{self.tls_port}\n"
                        + self.log_tail()
                    ) from None
                self.port, self.tls_port = free_ports(2)
                continue
            except BaseException:
                self._terminate(proc, graceful=False)
                raise
            self._proc = proc
            self._ports_pinned = True
            return
        raise MailServerError("dovecot: no free ports after 5 attempts\n" + self.log_tail())

    def _spawn(self) -> subprocess.Popen[bytes]:
        cmd = [self.dovecot_bin, "-F", "-c", str(self.conf_path)]
        setpriv = find_binary("setpriv")
        # Dovecot gets SIGTERM if the test process dies without teardown. The death signal
        # follows the spawning *thread*, so only when spawned from the main thread.
        if setpriv and threading.current_thread() is threading.main_thread():
            cmd = [setpriv, "--pdeathsig", "TERM", *cmd]
        with open(self.stderr_path, "ab") as err:
            return subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() reaches every child
            )

    def _log_marks(self) -> dict[Path, int]:
        marks = {}
        for path in (self.stderr_path, self.log_path):
            try:
                marks[path] = path.stat().st_size
            except OSError:
                marks[path] = 0
        return marks

    def _new_log(self, marks: dict[Path, int]) -> str:
        text = []
        for path, offset in marks.items():
            with contextlib.suppress(OSError), open(path, "rb") as f:
                f.seek(offset)
                text.append(f.read().decode(errors="replace"))
        return "\n".join(text)

    def _wait_ready(self, proc: subprocess.Popen[bytes], marks: dict[Path, int]) -> None:
        deadline = time.monotonic() + self.start_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                if "Address already in use" in self._new_log(marks):
                    raise _PortInUse
                raise MailServerError(f"dovecot exited with {proc.returncode}\n{self.log_tail()}")
            try:
                imap = imaplib.IMAP4(self.host, self.port, timeout=2)
                try:
                    imap.login(self.user, self.password)
                finally:
                    with contextlib.suppress(Exception):
                        imap.logout()
                return
            except (OSError, imaplib.IMAP4.error) as e:
                last_error = e
                time.sleep(0.05)
        raise MailServerError(
            f"dovecot not ready within {self.start_timeout}s (last error: {last_error!r})\n"
            + self.log_tail()
        )

    def stop(self, *, graceful: bool = True) -> None:
        """Stop the server: SIGTERM (clients get ``* BYE``), SIGKILL for anything left after 1 s.

        ``graceful=False`` is ``kill()``. Safe to call when already stopped or crashed.
        """
        proc, self._proc = self._proc, None
        if proc is not None:
            self._terminate(proc, graceful=graceful)

    def kill(self) -> None:
        """Crash the server: SIGKILL to dovecot and all its children. No BYE: clients' sockets
        are closed by the kernel (EOF / reset on their next read)."""
        self.stop(graceful=False)

    def freeze(self) -> None:
        """SIGSTOP every dovecot process: connections stay open but nothing answers, like a
        hung server or a dead network path (clients only notice through their timeouts).
        New TCP connects still succeed (kernel backlog) but get no greeting."""
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """Undo ``freeze``; queued commands are then answered."""
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGCONT)

    def restart(self) -> None:
        """Stop then start on the same ports with the same data (connected clients drop)."""
        self.stop()
        self.start()

    def _terminate(self, proc: subprocess.Popen[bytes], *, graceful: bool) -> None:
        # SIGTERM to dovecot's whole process group (its children share it): every imap process
        # sends "* BYE Server shutting down." and all exit within ~50 ms. Signalling only the
        # master takes ~1 s and leaves children (holding the listening sockets) behind.
        sig = signal.SIGTERM if graceful else signal.SIGKILL
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
            if graceful:
                os.killpg(proc.pid, signal.SIGCONT)  # in case it was frozen
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _group_alive(proc.pid):
            if time.monotonic() > deadline - 4:  # stragglers after 1 s: SIGKILL
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        with contextlib.suppress(FileNotFoundError):
            (self.root / "run" / "master.pid").unlink()

    def close(self, keep_log: Path | None = None) -> None:
        """Stop for good; copy the log to ``keep_log`` if given; remove the private folder."""
        try:
            self.stop()
        finally:
            if keep_log is not None:
                with contextlib.suppress(OSError):
                    keep_log.write_text(self.log_tail(lines=None))
            if self._own_root:
                shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int | None = 40) -> str:
        parts = []
        for path in (self.stderr_path, self.log_path):
            with contextlib.suppress(OSError):
                text = path.read_text(errors="replace").splitlines()
                if lines is not None:
                    text = text[-lines:]
                parts.append(f"--- {path.name} ---\n" + "\n".join(text))
        return "\n".join(parts) or "(no dovecot log)"

    def doveadm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``doveadm -c <conf> ARGS`` against this instance."""
        result = subprocess.run(
            [self.doveadm_bin, "-c", str(self.conf_path), *args],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check and result.returncode != 0:
            raise MailServerError(
                f"doveadm {' '.join(args)} -> {result.returncode}: {result.stderr.strip()}"
            )
        return result

    # -- users ----------------------------------------------------------------------------

    def add_user(self, user: str, password: str) -> None:
        """Add a mail user, or change an existing user's password; returns once it applies.

        Dovecot stats the passwd-file at most once a second, so this waits (bounded) until a
        LOGIN with the new password works.
        """
        if any(c in user + password for c in ":\n\r"):
            raise ValueError("user names and passwords must not contain ':' or newlines")
        self._users[user] = password
        if user == self.user:
            self.password = password
        self._write_passwd()
        if not self.running:
            return
        deadline = time.monotonic() + 5
        while True:
            try:
                self.connect(user=user).logout()
                return
            except imaplib.IMAP4.error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    # -- IMAP helpers (each one a separate client) ------------------------------------------

    def connect(self, *, tls: bool = False, user: str | None = None) -> imaplib.IMAP4:
        """A logged-in imaplib client (plain port, or implicit TLS verified against ``cafile``)."""
        user = user or self.user
        imap: imaplib.IMAP4
        if tls:
            imap = imaplib.IMAP4_SSL(
                "localhost",
                self.tls_port,
                ssl_context=self.cert.client_context(),
                timeout=IO_TIMEOUT,
            )
        else:
            imap = imaplib.IMAP4(self.host, self.port, timeout=IO_TIMEOUT)
        try:
            _ok(imap.login(user, self._users[user]), "LOGIN")
        except BaseException:
            with contextlib.suppress(Exception):
                imap.shutdown()
            raise
        return imap

    @contextlib.contextmanager
    def session(
        self, folder: str | None = None, *, readonly: bool = False, user: str | None = None
    ) -> Iterator[imaplib.IMAP4]:
        """A logged-in client for a ``with`` block, ``folder`` SELECTed (EXAMINEd if readonly)."""
        imap = self.connect(user=user)
        try:
            if folder is not None:
                _ok(imap.select(_mailbox_arg(folder), readonly=readonly), f"SELECT {folder}")
            yield imap
        finally:
            with contextlib.suppress(Exception):
                imap.logout()

    def deliver(
        self,
        raw: bytes,
        folder: str = "INBOX",
        seen: bool = False,
        *,
        flags: Iterable[str] = (),
        internaldate: dt.datetime | None = None,
    ) -> int:
        """Put ``raw`` into ``folder`` (IMAP APPEND from a separate client); return its UID.

        ``seen`` stores the message already \\Seen (atomically, as if read elsewhere before any
        poll). Line ends come back as CRLF from FETCH whatever ``raw`` used.
        """
        all_flags = [*flags, *(["\\Seen"] if seen else [])]
        flag_arg = "(" + " ".join(all_flags) + ")" if all_flags else None
        with self.session() as imap:
            data = _ok(
                imap.append(_mailbox_arg(folder), flag_arg, internaldate, raw), f"APPEND {folder}"
            )
        m = _APPENDUID.search(b" ".join(d for d in data if isinstance(d, bytes)))
        if m is None:
            raise MailServerError(f"APPEND gave no APPENDUID: {data!r}")
        return int(m.group(2))

    def add_flags(self, uid: int, *flags: str, folder: str = "INBOX") -> None:
        with self.session(folder) as imap:
            _ok(imap.uid("STORE", str(uid), "+FLAGS.SILENT", f"({' '.join(flags)})"), "STORE")

    def remove_flags(self, uid: int, *flags: str, folder: str = "INBOX") -> None:
        with self.session(folder) as imap:
            _ok(imap.uid("STORE", str(uid), "-FLAGS.SILENT", f"({' '.join(flags)})"), "STORE")

    def mark_seen(self, uid: int, folder: str = "INBOX") -> None:
        """Set \\Seen on ``uid`` from another client."""
        self.add_flags(uid, "\\Seen", folder=folder)

    def mark_unseen(self, uid: int, folder: str = "INBOX") -> None:
        self.remove_flags(uid, "\\Seen", folder=folder)

    def expunge(self, uid: int, folder: str = "INBOX") -> None:
        """Delete ``uid`` for good (\\Deleted + UID EXPUNGE), from another client."""
        with self.session(folder) as imap:
            _ok(imap.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)"), "STORE")
            _ok(imap.uid("EXPUNGE", str(uid)), "UID EXPUNGE")

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.session(folder, readonly=True) as imap:
            data = _ok(imap.uid("SEARCH", "ALL"), "UID SEARCH")
        return sorted(int(x) for x in b" ".join(data).split())

    def flags(self, uid: int, folder: str = "INBOX") -> set[str]:
        """The message's flags, without the per-session ``\\Recent``."""
        with self.session(folder, readonly=True) as imap:
            data = _ok(imap.uid("FETCH", str(uid), "(FLAGS)"), "UID FETCH")
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if isinstance(line, bytes) and (m := _FETCH_FLAGS.search(line)):
                return {f for f in m.group(1).decode().split() if f != "\\Recent"}
        raise MailServerError(f"no message with UID {uid} in {folder}")

    def fetch(self, uid: int, folder: str = "INBOX") -> bytes:
        """The message as the server serves it (BODY.PEEK[], so \\Seen is left alone)."""
        with self.session(folder, readonly=True) as imap:
            data = _ok(imap.uid("FETCH", str(uid), "(BODY.PEEK[])"), "UID FETCH")
        for item in data:
            if isinstance(item, tuple):
                return item[1]
        raise MailServerError(f"no message with UID {uid} in {folder}")

    def status(self, folder: str = "INBOX") -> dict[str, int]:
        """STATUS counters: MESSAGES, UIDNEXT, UIDVALIDITY, UNSEEN."""
        with self.session() as imap:
            data = _ok(
                imap.status(_mailbox_arg(folder), "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"),
                "STATUS",
            )
        inner = data[0].rsplit(b"(", 1)[1].rstrip(b")").split()
        return {k.decode(): int(v) for k, v in zip(inner[::2], inner[1::2], strict=True)}

    def uidvalidity(self, folder: str = "INBOX") -> int:
        return self.status(folder)["UIDVALIDITY"]

    def create_folder(self, name: str) -> None:
        with self.session() as imap:
            _ok(imap.create(_mailbox_arg(name)), f"CREATE {name}")
            _ok(imap.subscribe(_mailbox_arg(name)), f"SUBSCRIBE {name}")

    def folders(self) -> list[str]:
        with self.session() as imap:
            data = _ok(imap.list(), "LIST")
        names = []
        for item in data:
            if item is None:
                continue
            if isinstance(item, tuple):  # name sent as a literal
                names.append(imap_utf7.decode(item[1]))
                continue
            m = _LIST_LINE.match(item)
            if m:
                names.append(imap_utf7.decode(_unquote(m.group("name"))))
        return sorted(names)

    def recreate_folder(self, folder: str = "INBOX", *, renumber: bool = False) -> int:
        """Give ``folder`` a new UIDVALIDITY, keeping its messages and flags; return the new one.

        Default: live, with ``doveadm mailbox update --uid-validity`` (UIDs unchanged); a client
        that has the folder selected is disconnected by dovecot ("IMAP session state is
        inconsistent, please relogin"), others see the new value at their next SELECT/STATUS.

        ``renumber=True``: the server is stopped, the folder's UID list and indexes are deleted
        and the server started again, so dovecot rescans the Maildir and numbers the messages
        afresh from 1 (all clients drop, as with ``restart``).
        """
        old = self.uidvalidity(folder)
        if not renumber:
            new = max(old + 1, int(time.time()))
            self.doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(new), folder)
        else:
            box = self.maildir if folder.upper() == "INBOX" else self._folder_dir(folder)
            if not box.is_dir():
                raise MailServerError(f"no Maildir folder at {box}")
            self.stop()
            doomed = [box / "dovecot-uidlist", *box.glob("dovecot.index*")]
            doomed += self.maildir.glob("dovecot.list.index*")  # caches UIDVALIDITY too
            for path in doomed:
                path.unlink(missing_ok=True)
            self.start()
            new = self.uidvalidity(folder)
        if new == old:
            raise MailServerError(f"UIDVALIDITY of {folder} did not change ({old})")
        return new

    def _folder_dir(self, folder: str) -> Path:
        # Maildir++ layout: ~/Maildir/.<name> with "." as the hierarchy separator.
        return self.maildir / ("." + imap_utf7.encode(folder).decode("ascii"))


class _PortInUse(Exception):
    pass


def _first_user(*names: str) -> str:
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise MailServerError(f"none of these users exists: {', '.join(names)}")


def _group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is in group ``pgid``.

    Zombies count as gone: orphans of a SIGKILLed master wait for PID 1 to reap them, which in
    a container can take seconds.
    """
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - not Linux
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


# --------------------------------------------------------------------------------------------
# SMTP


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP server got it at the end of DATA."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes  # exactly the DATA bytes (dot-unstuffed, CRLF line ends)
    message: EmailMessage  # raw with CRLF -> LF, parsed with email.policy.default
    mail_options: tuple[str, ...]
    rcpt_options: tuple[str, ...]
    login: str | None  # the AUTH user, if the client authenticated
    tls: bool  # whether the session had done STARTTLS
    response: str  # what the server answered at DATA end


_STAGES = ("mail", "rcpt", "data")


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.server._next_failure("mail")
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.server._next_failure("rcpt")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.server._next_failure("data") or "250 OK"
        raw = envelope.original_content or b""
        login = getattr(session.auth_data, "login", None)
        mail = ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=email.message_from_bytes(
                raw.replace(b"\r\n", b"\n"), policy=email.policy.default
            ),
            mail_options=tuple(envelope.mail_options),
            rcpt_options=tuple(envelope.rcpt_options),
            login=login.decode() if isinstance(login, bytes) else login,
            tls=session.ssl is not None,
            response=reply,
        )
        self.server._record(mail, accepted=reply.startswith("2"))
        return reply


class SmtpServer:
    """aiosmtpd on 127.0.0.1 and a free port, in a background thread.

    ``messages`` holds what was accepted, ``rejected`` what was refused at DATA end (both
    snapshots). ``fail_next`` scripts refusals; ``auth=(user, password)`` requires AUTH
    (PLAIN/LOGIN, allowed without TLS); ``cert`` offers STARTTLS.
    """

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        cert: TlsCert | None = None,
        require_starttls: bool = False,
    ) -> None:
        self.host = LOCALHOST
        self.port = 0
        self.auth = auth
        self.cert = cert
        self.cafile = cert.cert if cert else None
        self.require_starttls = require_starttls
        self._lock = threading.Condition()
        self._accepted: list[ReceivedMail] = []
        self._rejected: list[ReceivedMail] = []
        self._failures: dict[str, deque[str]] = {stage: deque() for stage in _STAGES}
        self.auth_attempts: list[tuple[str, str, bool]] = []  # (mechanism, login, succeeded)
        self._async_waiters: list[tuple[Any, Any]] = []  # (event loop, asyncio.Event)
        self._controller: Any = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        if self._controller is not None:
            return
        kwargs: dict[str, Any] = {
            "server_hostname": "localhost",  # no getfqdn(): it can hang on DNS
            "ready_timeout": IO_TIMEOUT,
            "enable_SMTPUTF8": True,
        }
        if self.auth is not None:
            kwargs.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=False
            )
        if self.cert is not None:
            kwargs.update(
                tls_context=self.cert.server_context(), require_starttls=self.require_starttls
            )
        last: Exception | None = None
        for _attempt in range(5):
            port = free_port()
            controller = Controller(_Handler(self), hostname=self.host, port=port, **kwargs)
            try:
                controller.start()
            except (OSError, RuntimeError, TimeoutError) as e:
                last = e
                with contextlib.suppress(Exception):
                    controller.stop()
                continue
            self._controller, self.port = controller, port
            return
        raise MailServerError(f"aiosmtpd did not start: {last!r}")

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting & inspection -----------------------------------------------------------

    def fail_next(self, code_text: str, times: int = 1, *, stage: str = "data") -> None:
        """Answer the next ``times`` commands of ``stage`` (data/mail/rcpt) with ``code_text``.

        e.g. ``fail_next("451 4.3.0 try again later", times=2)``. Queued replies are used in
        order; once used up the server accepts again.
        """
        if stage not in _STAGES:
            raise ValueError(f"stage must be one of {_STAGES}")
        if not re.match(r"^[45]\d\d[ -]", code_text):
            raise ValueError(f"not an SMTP error reply: {code_text!r}")
        with self._lock:
            self._failures[stage].extend([code_text] * times)

    def _next_failure(self, stage: str) -> str | None:
        with self._lock:
            queue = self._failures[stage]
            return queue.popleft() if queue else None

    def _record(self, mail: ReceivedMail, *, accepted: bool) -> None:
        with self._lock:
            (self._accepted if accepted else self._rejected).append(mail)
            self._lock.notify_all()
            for loop, event in self._async_waiters:
                with contextlib.suppress(RuntimeError):  # that loop is closed
                    loop.call_soon_threadsafe(event.set)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = False
        login = ""
        if isinstance(auth_data, LoginPassword) and self.auth is not None:
            login = auth_data.login.decode(errors="replace")
            ok = (login, auth_data.password.decode(errors="replace")) == self.auth
        with self._lock:
            self.auth_attempts.append((mechanism, login, ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._accepted)

    @property
    def rejected(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._rejected)

    def wait_for(self, n: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """Block until at least ``n`` messages were accepted; raise TimeoutError after timeout."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._accepted) >= n, timeout=timeout):
                raise TimeoutError(
                    f"SMTP server got {len(self._accepted)} message(s), wanted {n}, "
                    f"within {timeout}s"
                )
            return list(self._accepted)

    async def wait_for_async(self, n: int) -> list[ReceivedMail]:
        """``wait_for`` for async tests: waits without blocking the event loop (which may be
        the one running the code that sends). Bounded by :data:`IO_TIMEOUT`; for a shorter
        bound wrap it in ``asyncio.timeout(...)``. Raises TimeoutError."""
        import asyncio

        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._async_waiters.append(waiter)
        try:
            async with asyncio.timeout(IO_TIMEOUT):
                while True:
                    waiter[1].clear()  # before looking, so no wake-up is lost
                    if len(got := self.messages) >= n:
                        return got
                    await waiter[1].wait()
        except TimeoutError:
            raise TimeoutError(
                f"SMTP server got {len(self.messages)} message(s), wanted {n}"
            ) from None
        finally:
            with self._lock:
                self._async_waiters.remove(waiter)

    def clear(self) -> None:
        """Forget recorded messages, auth attempts and queued failures."""
        with self._lock:
            self._accepted.clear()
            self._rejected.clear()
            self.auth_attempts.clear()
            for queue in self._failures.values():
                queue.clear()
