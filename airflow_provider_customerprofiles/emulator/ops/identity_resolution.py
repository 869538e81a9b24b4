"""Handlers: to be written."""
