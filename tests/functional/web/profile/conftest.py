"""Fixtures for the profile pages (shared with the admin pages' tests)."""

from tests.support.web import signed_in as signed_in
