"""A real LDAP server for tests: Debian's OpenLDAP ``slapd`` with a throw-away slapd.conf
and an MDB database in a temporary directory, on free loopback ports (plain with STARTTLS,
and LDAPS, with a self-signed certificate made by openssl), stopped afterwards.

The directory holds a few people under ``ou=people``, two groups under ``ou=groups``
(``groupOfNames``), a service account allowed to search, and a small schema standing in for
Active Directory's ``userAccountControl`` and ``memberOf`` (OpenLDAP's own memberOf comes
from an overlay; a static attribute is enough to test reading it).

``slapd_binary()`` says why the server cannot run (not installed and apt-get cannot install
it, e.g. without root or network), so the tests skip with that reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
MODULES = "/usr/lib/ldap"
SUFFIX = "dc=example,dc=com"
SERVICE_DN = f"cn=reader,{SUFFIX}"
SERVICE_PASSWORD = "reader-secret"
PASSWORDS = {"alice": "alice-password", "bob": "bob-password", "dora": "dora-password"}

_SCHEMA = """\
attributetype ( 1.3.6.1.4.1.99999.1.1 NAME 'userAccountControl'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.99999.1.2 NAME 'memberOf'
    EQUALITY distinguishedNameMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 )
objectclass ( 1.3.6.1.4.1.99999.2.1 NAME 'taskdeskTestAccount' AUXILIARY
    MAY ( userAccountControl $ memberOf ) )
"""

_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include {directory}/test.schema
pidfile {directory}/slapd.pid
TLSCertificateFile {directory}/server.pem
TLSCertificateKeyFile {directory}/server.key
modulepath {modules}
moduleload back_mdb
database mdb
suffix "{suffix}"
rootdn "cn=admin,{suffix}"
rootpw admin-secret
directory {directory}/data
maxsize 10485760
access to attrs=userPassword
    by anonymous auth
    by self read
    by * none
access to *
    by dn.exact="{service}" read
    by self read
    by users read
    by * none
"""


def _person(uid: str, name: str, mail: str, *, disabled: bool = False,
            member_of: tuple[str, ...] = ()) -> str:
    lines = [f"dn: uid={uid},ou=people,{SUFFIX}", "objectClass: inetOrgPerson",
             "objectClass: taskdeskTestAccount", f"uid: {uid}", f"cn: {name}",
             f"sn: {name.split()[-1]}", f"mail: {mail}",
             f"userPassword: {PASSWORDS[uid]}",
             f"userAccountControl: {514 if disabled else 512}"]
    lines += [f"memberOf: {group}" for group in member_of]
    return "\n".join(lines) + "\n"


DEVS = f"cn=devs,ou=groups,{SUFFIX}"
ADMINS = f"cn=admins,ou=groups,{SUFFIX}"


def _data() -> str:
    return "\n".join([
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\n"
        "o: Example\n",
        f"dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n",
        f"dn: {SERVICE_DN}\nobjectClass: person\ncn: reader\nsn: reader\n"
        f"userPassword: {SERVICE_PASSWORD}\n",
        _person("alice", "Alice Liddell", "alice@example.com", member_of=(DEVS,)),
        _person("bob", "Bob Builder", "bob@example.com", member_of=(ADMINS,)),
        _person("dora", "Dora Disabled", "dora@example.com", disabled=True),
        f"dn: {DEVS}\nobjectClass: groupOfNames\ncn: devs\n"
        f"member: uid=alice,ou=people,{SUFFIX}\n",
        f"dn: {ADMINS}\nobjectClass: groupOfNames\ncn: admins\n"
        f"member: uid=bob,ou=people,{SUFFIX}\n",
    ])


def slapd_binary() -> str | None:
    """None when slapd can run, else why not. Installs Debian's slapd and ldap-utils with
    apt-get (non-interactive, updating the package lists once if needed) when missing."""
    if os.path.exists(SLAPD) and os.path.exists(SLAPADD):
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "slapd is not installed and apt-get cannot install it here (needs root)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "slapd", "ldap-utils"]
    if subprocess.run(install, env=env, capture_output=True, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(install, env=env, capture_output=True, timeout=600)
        if done.returncode != 0:
            return "apt-get install slapd failed: " + done.stderr.decode()[-300:]
    return None if os.path.exists(SLAPD) else "slapd is still missing after apt-get install"


@dataclass(frozen=True)
class Slapd:
    port: int
    #: The LDAPS port (TLS from the start).
    tls_port: int
    #: The self-signed certificate of 127.0.0.1 the server presents (a PEM file).
    ca_file: str

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"


def _certificate(directory: Path) -> None:
    """A self-signed certificate for 127.0.0.1 (its own authority) with openssl."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(directory / "server.key"), "-out", str(directory / "server.pem")],
        check=True, capture_output=True, timeout=60,
    )


@contextmanager
def slapd_server(directory: Path) -> Iterator[Slapd]:
    """slapd in the foreground on 127.0.0.1 (a free port) over ``directory``, loaded with
    the test data; stopped (SIGTERM, then SIGKILL) afterwards."""
    (directory / "data").mkdir(parents=True)
    (directory / "test.schema").write_text(_SCHEMA)
    conf = directory / "slapd.conf"
    conf.write_text(_CONF.format(directory=directory, modules=MODULES, suffix=SUFFIX,
                                 service=SERVICE_DN))
    (directory / "data.ldif").write_text(_data())
    _certificate(directory)
    subprocess.run([SLAPADD, "-f", str(conf), "-l", str(directory / "data.ldif")],
                   check=True, capture_output=True, timeout=60)
    port, tls_port = free_port(), free_port()
    process = subprocess.Popen(
        [SLAPD, "-d", "0", "-f", str(conf), "-h",
         f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError("slapd stopped: " + process.stderr.read().decode()[-500:]
                                   if process.stderr else "slapd stopped")
            try:
                for listening in (port, tls_port):
                    socket.create_connection(("127.0.0.1", listening), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("slapd did not listen within 15 s") from None
                time.sleep(0.1)
        yield Slapd(port, tls_port, str(directory / "server.pem"))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
