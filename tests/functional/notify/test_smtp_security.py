"""SMTP over STARTTLS and TLS, with a user name and the password from the environment, to a
real server on loopback with a self-signed certificate (trusted through ``SSL_CERT_FILE``,
which Python's default TLS context reads). The certificate is made with the ``openssl``
command; the tests skip, saying so, where it is missing."""

from __future__ import annotations

import shutil
import smtplib
import ssl
import subprocess
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from taskdesk.notify.mail import SmtpConnection
from taskdesk.settings import TaskdeskSettings, parse_settings
from tests.support.apps import SESSION_SECRET
from tests.support.mail import MailSink, smtp_server

USER, PASSWORD = "taskdesk", "smtp password from the environment"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed: no certificate for the TLS tests")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


@pytest.fixture
def trusted(certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """The server's TLS context; the client trusts its certificate (and only it)."""
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                 data: Any) -> AuthResult:
    ok = (isinstance(data, LoginPassword) and data.login == USER.encode()
          and data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


def settings_for(port: int, security: str, monkeypatch: pytest.MonkeyPatch) -> TaskdeskSettings:
    monkeypatch.setenv("TD_TEST_SMTP_PASSWORD", PASSWORD)
    return parse_settings({
        "taskdesk.session.secret": SESSION_SECRET, "taskdesk.public_url": "https://t.example",
        "taskdesk.mail.host": "localhost", "taskdesk.mail.port": str(port),
        "taskdesk.mail.security": security, "taskdesk.mail.username": USER,
        "taskdesk.mail.password_env": "TD_TEST_SMTP_PASSWORD",
        "taskdesk.mail.from": "Taskdesk <tasks@example.com>",
    })


def message() -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = "Hello", "tasks@example.com", "mei@example.com"
    mail.set_content("Over TLS.")
    return mail


@pytest.fixture
def sink() -> MailSink:
    return MailSink()


def send(settings: TaskdeskSettings) -> None:
    connection = SmtpConnection(settings)
    try:
        connection.send(message(), "mei@example.com")
    finally:
        connection.close()


def test_starttls_then_sign_in(trusted: ssl.SSLContext, sink: MailSink,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(sink, tls_context=trusted, require_starttls=True, auth_required=True,
                     authenticator=authenticate) as server:
        send(settings_for(server.port, "starttls", monkeypatch))
    assert [r.message["Subject"] for r in sink.received] == ["Hello"]


# aiosmtpd counts only STARTTLS as TLS for AUTH; here the whole connection is TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_tls_from_the_start_then_sign_in(trusted: ssl.SSLContext, sink: MailSink,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(sink, ssl_context=trusted, auth_required=True,
                     authenticator=authenticate, auth_require_tls=False) as server:
        send(settings_for(server.port, "tls", monkeypatch))
    assert len(sink.received) == 1


def test_a_wrong_password_is_an_error_to_retry(trusted: ssl.SSLContext, sink: MailSink,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(sink, tls_context=trusted, require_starttls=True, auth_required=True,
                     authenticator=authenticate) as server:
        settings = settings_for(server.port, "starttls", monkeypatch)
        wrong = TaskdeskSettings(**{**settings.__dict__, "mail_password": "wrong"})
        with pytest.raises(smtplib.SMTPAuthenticationError):
            send(wrong)
    assert sink.received == []


def test_an_untrusted_certificate_is_refused(certificate: tuple[Path, Path], sink: MailSink,
                                             monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    empty = tmp_path / "none.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    with smtp_server(sink, tls_context=context, require_starttls=True) as server, \
            pytest.raises(ssl.SSLCertVerificationError):
        send(settings_for(server.port, "starttls", monkeypatch))
    assert sink.received == []


def test_starttls_refused_by_a_plain_server_is_an_error(sink: MailSink,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_server(sink) as server, pytest.raises(smtplib.SMTPNotSupportedError):
        send(settings_for(server.port, "starttls", monkeypatch))
    assert sink.received == []
