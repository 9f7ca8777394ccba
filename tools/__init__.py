"""Maintainer scripts (lock file and Binder environment)."""
