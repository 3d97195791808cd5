"""Helpers shared by the tests (plain functions and classes; fixtures stay in conftest.py).

databases: test databases on SQLite and PostgreSQL; apps: the app's test settings and
binding it to a test's transaction; factories: rows made through the domain layer; web:
driving the web UI's forms as a browser does; sessions: browsers that read their session
cookie; api: a JSON client checked against the OpenAPI document; servers and browser: real
server processes and headless Chromium.
"""
