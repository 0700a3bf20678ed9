"""Real mail servers on loopback for the email tests: Dovecot (IMAP) and aiosmtpd (SMTP).

Dovecot runs as a throwaway unprivileged instance: its own configuration, a passwd-file of
test accounts and maildirs in a temporary folder, IMAP without TLS on a free 127.0.0.1 port,
started once per test session with ``dovecot -F -c <conf>``. As root (CI, these machines) it
runs as the ``dovecot`` system user the Debian package creates (``runuser``), otherwise as
whoever runs the tests. Each test takes fresh accounts, so no test sees another's mail.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from imapclient import IMAPClient

ACCOUNTS = 200
IMAP_PASSWORD = "imap-secret-pass"
SMTP_USER = "crm-sender"
SMTP_PASSWORD = "smtp-secret-pass"

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = voronka-test-{port}
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = 1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  inet_listener http {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class ImapServer:
    host: str
    port: int
    root: str
    _accounts: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_account(self) -> str:
        n = next(self._accounts)
        if n > ACCOUNTS:
            raise RuntimeError("the test IMAP server ran out of accounts")
        return f"box{n}@example.test"

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.login(user, IMAP_PASSWORD)
        return client

    def deliver(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message into the account's folder, as the mail server's delivery would."""
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.append(folder, raw)
        finally:
            client.logout()

    def messages(self, user: str, folder: str) -> list[bytes]:
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            data = client.fetch(uids, [b"BODY.PEEK[]"]) if uids else {}
            return [bytes(data[u][b"BODY[]"]) for u in sorted(data)]
        finally:
            client.logout()


def start_dovecot() -> tuple[ImapServer, callable]:
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(dovecot):
        raise RuntimeError("Dovecot not found: `apt-get install dovecot-imapd` (make test does it)")
    root = tempfile.mkdtemp(prefix="voronka-imap-")
    for sub in ("run", "state", "mail"):
        os.mkdir(os.path.join(root, sub))
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = group = "dovecot"
        prefix = ["runuser", "-u", user, "--"]
    else:
        entry = pwd.getpwuid(os.geteuid())
        user = entry.pw_name
        group = subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
    port = _free_port()
    conf = os.path.join(root, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(CONFIG.format(root=root, port=port, user=user, group=group))
    with open(os.path.join(root, "users"), "w") as f:
        for n in range(1, ACCOUNTS + 1):
            f.write(f"box{n}@example.test:{{PLAIN}}{IMAP_PASSWORD}::::::\n")
    if os.geteuid() == 0:
        for dirpath, _dirs, files in os.walk(root):
            shutil.chown(dirpath, user, group)
            for name in files:
                shutil.chown(os.path.join(dirpath, name), user, group)
    process = subprocess.Popen(
        [*prefix, dovecot, "-F", "-c", conf],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port)
    except RuntimeError:
        process.kill()
        log = open(os.path.join(root, "dovecot.log")).read() if os.path.exists(conf) else ""
        raise RuntimeError(f"Dovecot did not start:\n{log}") from None

    def stop() -> None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)

    return ImapServer("127.0.0.1", port, root), stop


class _Recorder:
    """aiosmtpd's handler: keeps what was sent, with the envelope."""

    def __init__(self):
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok)


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: _Recorder

    @property
    def envelopes(self) -> list:
        return self.recorder.envelopes


@pytest.fixture(scope="session")
def imap_server():
    server, stop = start_dovecot()
    yield server
    stop()


@pytest.fixture(scope="session")
def smtp_session():
    recorder = _Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield SmtpServer("127.0.0.1", controller.port, recorder)
    controller.stop()


@pytest.fixture
def smtp_server(smtp_session):
    smtp_session.recorder.envelopes.clear()
    return smtp_session
