"""Fixture plugins and helpers for the tests, one module per concern; conftest wires them."""
