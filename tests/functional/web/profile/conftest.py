"""Fixtures for the profile pages (shared with the admin pages' tests)."""

from tests.functional.web.admin.forms import signed_in as signed_in
