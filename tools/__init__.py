"""Maintainer scripts: lock file and Binder environment, notebook runner, `make lab`."""
