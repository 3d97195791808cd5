"""Packaging for Taskdesk. Direct dependencies carry compatible ranges; the exact
versions tested live in ``constraints.txt``."""

import importlib.util
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithCatalogs(build_py):
    """Compile the gettext catalogs (.po -> .mo) first: the .mo files are not kept in git.

    ``taskdesk.i18n`` is loaded from its file, not imported, because the package's
    ``__init__`` needs Pyramid, which the build environment does not have (Babel it has:
    see pyproject.toml)."""

    def run(self) -> None:
        spec = importlib.util.spec_from_file_location(
            "taskdesk_i18n_build", HERE / "src" / "taskdesk" / "i18n.py"
        )
        assert spec is not None and spec.loader is not None
        i18n = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(i18n)
        for path in i18n.compile_catalogs():
            print(f"compiled {path.relative_to(HERE)}")
        super().run()


requires = [
    "pyramid>=2.0.2,<2.2",
    "pyramid_tm>=2.5,<3",
    "pyramid_retry>=2.1.1,<3",
    "pyramid_jinja2>=2.10,<3",
    "transaction>=4.0,<6",
    "zope.sqlalchemy>=3.1,<5",
    "SQLAlchemy>=2.0.36,<2.2",
    "alembic>=1.13,<2",
    "argon2-cffi>=23.1,<26",
    "plaster_pastedeploy>=1.0,<2",
    "waitress>=3.0,<4",
    "hypercorn>=0.17,<0.19",
    "psycopg[binary]>=3.2,<4",
    "Babel>=2.14,<3",
    "markdown-it-py>=3.0,<5",
    "nh3>=0.2.17,<0.4",
    "orjson>=3.10,<4",
    # Search: English words stemmed alike on SQLite and PostgreSQL (taskdesk.domain.search).
    "snowballstemmer>=3.0,<4",
    # Attachments: image sizes from their headers, thumbnails.
    "Pillow>=11,<14",
    # The task queue behind notifications, e-mail and webhooks: SQLite by default, Redis
    # when taskdesk.queue.url names one.
    "huey>=2.5.2,<4",
    "redis>=5.0,<9",
    # The GraphQL API (taskdesk.graphql). Strawberry changes its API between minor
    # releases, hence the narrow range.
    "strawberry-graphql>=0.341.2,<0.342",
    # Directory sign-in: OpenID Connect with Authlib's client (over requests), ID tokens
    # checked with joserfc (Authlib's JOSE library), LDAP / Active Directory with ldap3.
    "Authlib>=1.9,<2",
    "joserfc>=1.8,<2",
    "requests>=2.32,<3",
    "ldap3>=2.9,<3",
    # IANA time zone data for zoneinfo where the system has none (Windows, slim images).
    # No upper bound: each release only updates the rules, and stale rules show wrong times.
    "tzdata>=2024.1",
    # Two-factor enrolment: the authenticator's QR code as an inline SVG (pure Python).
    "segno>=1.6,<2",
]

tests_require = [
    "pytest>=8.3,<10",
    "pytest-xdist>=3.6,<4",
    "WebTest>=3.0,<4",
    "hypothesis>=6.100,<7",
    # The API tests: responses validated against the OpenAPI document, and fuzzing.
    "jsonschema>=4.23,<5",
    "schemathesis>=4.32,<5",
    "requests>=2.32,<3",
    # Queries generated from the GraphQL schema (tests/fuzz/test_graphql_queries.py).
    "hypothesis-graphql>=0.11,<1",
    "ruff>=0.8,<1",
    "mypy>=1.13,<3",
    "pyramid_debugtoolbar>=4.12,<5",
    "playwright>=1.48,<2",
    # A real SMTP server on a loopback port, for the e-mail tests.
    "aiosmtpd>=1.4.6,<2",
    # The deployment tests: the Kubernetes manifests (deploy/k8s) against the Kubernetes
    # schemas this package carries (no network), read with PyYAML.
    "kubernetes-validate>=1.30,<2",
    "PyYAML>=6.0,<7",
]

setup(
    name="taskdesk",
    version="0.1.0",
    description="Taskdesk: an internal enterprise task-management application on Pyramid",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Pyramid",
        "Topic :: Internet :: WWW/HTTP :: WSGI :: Application",
    ],
    python_requires=">=3.11",
    package_dir={"": "src"},
    packages=find_packages("src"),
    include_package_data=True,
    zip_safe=False,
    cmdclass={"build_py": BuildPyWithCatalogs},
    install_requires=requires,
    extras_require={"testing": tests_require, "dev": ["pyramid_debugtoolbar>=4.12,<5"]},
    entry_points={
        "paste.app_factory": ["main = taskdesk:main"],
        "console_scripts": ["taskdesk = taskdesk.cli:main"],
    },
)
