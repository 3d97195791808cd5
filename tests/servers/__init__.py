"""Tests that start real server processes (pserve/Waitress, Hypercorn); all marked slow."""
