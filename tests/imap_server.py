"""A real Dovecot IMAP server on loopback for the IMAP tests and the sync benchmark.

Dovecot runs from a config written into a temporary folder: IMAP with STARTTLS and IMAPS on
free loopback ports, a self-signed certificate made with ``openssl`` (tests trust it through
``ca_file``), a passwd-file of users with plain passwords, and each user's maildir under the
folder. Run as root, Dovecot's login and mail processes still need ordinary users: the login
processes use ``dovenull``/``dovecot`` (created by the dovecot-imapd package) and mail is stored
as ``nobody``. Run as anyone else, everything runs as that user.

When ``/usr/sbin/dovecot`` is missing the tests skip, unless AIINVENTORY_REQUIRE_SERVERS=1
(CI), where they fail.
"""

from __future__ import annotations

import grp
import itertools
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from imapclient import IMAPClient

DOVECOT = Path(os.environ.get("AIINVENTORY_DOVECOT", "/usr/sbin/dovecot"))
DOVEADM = DOVECOT.parent.parent / "bin" / "doveadm"
REQUIRE_ENV = "AIINVENTORY_REQUIRE_SERVERS"


class ServerMissing(RuntimeError):
    """Dovecot is not installed here."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _user_id(name: str, fallback: str = "nobody") -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return pwd.getpwnam(fallback)


@dataclass
class Dovecot:
    """A running Dovecot; ``add_user`` makes a fresh mailbox for each test."""

    root: Path
    imap_port: int
    imaps_port: int
    ca_file: Path
    mail_uid: int
    mail_gid: int
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"
    _users: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    password: str = ""
    user_count: int = 0
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    def add_user(self) -> str:
        """A fresh user with an empty maildir (created with the server); returns the login."""
        number = next(self._users)
        if number > self.user_count:
            raise RuntimeError(f"all {self.user_count} users are taken; start with more")
        user = f"user{number}"
        home = self.root / "home" / user
        (home / "Maildir").mkdir(parents=True, exist_ok=True)
        self.own(home)
        self.passwords[user] = self.password
        return user

    def maildir(self, user: str) -> Path:
        """The user's INBOX maildir, as Dovecot stores it."""
        return self.root / "home" / user / "Maildir"

    def message_file(self, user: str, uid: int) -> Path:
        """The maildir file holding the message with this UID (from Dovecot's uidlist).

        File names do not sort in UID order, so a test that needs a particular UID looks it up.
        """
        folder = self.maildir(user)
        lines = (folder / "dovecot-uidlist").read_text(encoding="utf-8").splitlines()
        for line in lines[1:]:
            number, _, rest = line.partition(" ")
            if number == str(uid):
                # "<uid> [extension fields] :<file name without its :2, flags>"
                base = re.split(r"(?:^| ):", rest, maxsplit=1)[-1].split(":2,")[0]
                for sub in ("cur", "new"):
                    for path in (folder / sub).iterdir():
                        if path.name.split(":2,")[0] == base:
                            return path
        raise LookupError(f"no message with UID {uid} in {folder}")

    def own(self, path: Path) -> None:
        """Hand files written by the test to the user Dovecot stores mail as."""
        if os.geteuid() != 0:
            return
        os.chown(path, self.mail_uid, self.mail_gid)
        for dirpath, dirnames, filenames in os.walk(path):
            for name in dirnames + filenames:
                os.chown(os.path.join(dirpath, name), self.mail_uid, self.mail_gid)

    def url(self, user: str, folder: str = "INBOX", scheme: str = "imaps", query: str = "") -> str:
        port = self.imaps_port if scheme == "imaps" else self.imap_port
        params = [f"ca_file={quote(str(self.ca_file))}"] + ([query] if query else [])
        path = f"/{quote(folder)}" if folder else ""
        return f"{scheme}://{user}@{self.host}:{port}{path}?{'&'.join(params)}"

    def client(self, user: str) -> IMAPClient:
        """A logged-in IMAPS client for setting up a mailbox."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        client = IMAPClient(self.host, port=self.imaps_port, ssl=True, ssl_context=context)
        password = self.passwords[user]
        if password.isascii():
            client.login(user, password)
        else:  # LOGIN carries ASCII only
            client.plain_login(user, password)
        return client

    def append(
        self, user: str, messages: list[bytes], folder: str = "INBOX", when: datetime | None = None
    ) -> None:
        """Deliver messages (APPEND) into a folder, creating it if needed."""
        client = self.client(user)
        try:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in messages:
                client.append(folder, raw, msg_time=when)
        finally:
            client.logout()

    def expunge(self, user: str, subjects: list[str], folder: str = "INBOX") -> int:
        """Delete and expunge the messages with these subjects; returns how many."""
        client = self.client(user)
        try:
            client.select_folder(folder)
            uids: list[int] = []
            for subject in subjects:
                uids += client.search(["SUBJECT", subject])
            if uids:
                client.delete_messages(uids)
                client.expunge()
            return len(uids)
        finally:
            client.logout()

    def set_uidvalidity(self, user: str, folder: str, value: int) -> None:
        """Renumber a folder, as a restored or rebuilt mailbox would be."""
        subprocess.run(
            [
                str(DOVEADM),
                "-c",
                str(self.config),
                "mailbox",
                "update",
                "-u",
                user,
                "--uid-validity",
                str(value),
                folder,
            ],
            check=True,
            capture_output=True,
        )

    def log(self) -> str:
        """Dovecot's log so far."""
        return (self.root / "dovecot.log").read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _certificate(root: Path) -> tuple[Path, Path]:
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def start_dovecot(password: str, users: int = 40) -> Dovecot:
    """Start Dovecot on free loopback ports with ``users`` users (user1…) sharing a password.

    The caller stops it.

    Raises:
        ServerMissing: Dovecot is not installed.
    """
    if not DOVECOT.exists():
        raise ServerMissing(f"{DOVECOT} is not installed (Debian: apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="aiinventory-dovecot-"))
    # Mail processes run as another user when we are root; they must reach the homes below.
    root.chmod(0o755)
    cert, key = _certificate(root)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    # Every user is there from the start: Dovecot notices a changed passwd-file only by its
    # modification time, too coarse for users added one after the other.
    (root / "passwd").write_text(
        "".join(f"user{n}:{{PLAIN}}{password}::::\n" for n in range(1, users + 1)),
        encoding="utf-8",
    )
    if os.geteuid() == 0:
        internal = _user_id("dovecot")
        login = _user_id("dovenull")
        mail = pwd.getpwnam("nobody")
    else:
        internal = login = mail = pwd.getpwuid(os.geteuid())
    os.chown(root / "home", mail.pw_uid, mail.pw_gid)
    imap_port, imaps_port = _free_port(), _free_port()
    (root / "dovecot.conf").write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal.pw_name}
default_internal_group = {grp.getgrgid(internal.pw_gid).gr_name}
default_login_user = {login.pw_name}
first_valid_uid = {min(mail.pw_uid, 500)}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail.pw_uid} gid={mail.pw_gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""",
        encoding="utf-8",
    )
    # In the foreground (-F), so the server is our child: stopped by its pid, never by name.
    with (root / "dovecot.out").open("wb") as out:
        process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")], stdout=out, stderr=out
        )
    server = Dovecot(
        root, imap_port, imaps_port, cert, mail.pw_uid, mail.pw_gid, process, password=password
    )
    server.user_count = users
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", imaps_port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline or server.process.poll() is not None:
                log = (root / "dovecot.log").read_text(errors="replace")
                server.stop()
                raise RuntimeError(f"Dovecot did not start:\n{log}") from None
            time.sleep(0.05)
    return server


def make_message(
    n: int,
    subject: str,
    body: str,
    sender: str = "Dana Reyes <dana.reyes@example.org>",
    date: str = "Tue, 04 Mar 2025 10:15:00 +0000",
    extra_headers: str = "",
) -> bytes:
    """A plain RFC 822 message with a unique Message-ID."""
    text = (
        f"From: {sender}\r\nTo: ai-intake@example.org\r\nSubject: {subject}\r\n"
        f"Date: {date}\r\nMessage-ID: <msg-{n}@example.org>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n{extra_headers}\r\n{body}\r\n"
    )
    return text.encode("utf-8")
