"""Start JupyterLab on the course: ``make lab`` runs ``python tools/lab.py NOTEBOOK``.

It builds the ``jupyter lab`` command for this machine and replaces itself
with it (``os.execv``), so the server is the process ``make`` started and
Ctrl-C stops it:

* ``--allow-root`` only when the effective uid is 0 (a container, CI);
* ``--no-browser`` when no graphical web browser can be found, and then the
  server's log prints the URL (with its token) to open by hand. The rule:
  if ``BROWSER`` is set, Python's :func:`webbrowser.get` (which honours it,
  as Jupyter does) must find a browser; otherwise, on Linux and the other
  Unix systems except macOS, ``DISPLAY`` or ``WAYLAND_DISPLAY`` must be set
  and :func:`webbrowser.get` must find a browser that is not a text-mode one
  (lynx, w3m, ... would take over the terminal that runs the server); on
  macOS and Windows :func:`webbrowser.get` must find one;
* it binds ``127.0.0.1`` (this machine only) unless ``LAB_IP`` asks for
  another address, e.g. ``LAB_IP=0.0.0.0`` to reach it through a container's
  published port;
* ``LAB_PORT`` fixes the port (default: Jupyter's, 8888 or the next free
  one); a fixed port that is taken is an error rather than a silent switch to
  another port (``--ServerApp.port_retries=0``).

The token is Jupyter's: a random one, or ``JUPYTER_TOKEN`` when set.

``--print-command`` prints the command instead of running it (for tests and
for the curious).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import webbrowser
from collections.abc import Callable, Mapping, Sequence

DEFAULT_IP = "127.0.0.1"
# webbrowser's text-mode browsers: they would run inside the server's terminal.
TEXT_BROWSERS = frozenset({"www-browser", "links", "elinks", "lynx", "w3m"})


def find_browser(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    get: Callable[[], object] = webbrowser.get,
) -> tuple[bool, str]:
    """Whether ``jupyter lab`` can open a browser here, and why (or why not).

    Args:
        environ: The environment to judge (default ``os.environ``).
        platform: ``sys.platform`` to judge (default this one).
        get: Finds the default browser, raising :class:`webbrowser.Error`
            when there is none (default :func:`webbrowser.get`).

    Returns:
        ``(found, reason)``; ``reason`` is a short phrase for the user.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    explicit = bool(environ.get("BROWSER", "").strip())
    desktop = platform in ("darwin", "win32", "cygwin")
    display = environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")
    if not (explicit or desktop or display):
        return False, "no graphical display (DISPLAY and WAYLAND_DISPLAY are empty)"
    try:
        browser = get()
    except webbrowser.Error:
        return False, "Python's webbrowser module finds no browser"
    name = os.path.basename(str(getattr(browser, "name", "")))
    if not explicit and name in TEXT_BROWSERS:
        return False, f"the only browser found is the text-mode {name}"
    return True, f"browser: {name or type(browser).__name__}"


def lab_ip(environ: Mapping[str, str] | None = None) -> str:
    """The address to bind: ``LAB_IP``, default ``127.0.0.1`` (loopback)."""
    environ = os.environ if environ is None else environ
    return environ.get("LAB_IP", "").strip() or DEFAULT_IP


def lab_command(
    paths: Sequence[str],
    environ: Mapping[str, str] | None = None,
    uid: int | None = None,
    browser: bool | None = None,
    python: str = sys.executable,
) -> list[str]:
    """The ``jupyter lab`` command line for this machine.

    Args:
        paths: Files or folders to open (passed on to ``jupyter lab``).
        environ: Where ``LAB_IP`` and ``LAB_PORT`` are read (default
            ``os.environ``).
        uid: Effective user id (default this process's; ``None`` on Windows).
        browser: Whether a browser can be opened (default :func:`find_browser`).
        python: The interpreter that runs JupyterLab.

    Raises:
        SystemExit: ``LAB_PORT`` is not a port number.
    """
    environ = os.environ if environ is None else environ
    if uid is None and hasattr(os, "geteuid"):
        uid = os.geteuid()
    if browser is None:
        browser = find_browser(environ)[0]
    command = [python, "-m", "jupyterlab", f"--ServerApp.ip={lab_ip(environ)}"]
    port_text = environ.get("LAB_PORT", "").strip()
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SystemExit(f"LAB_PORT={port_text!r} is not a port number (1-65535)")
        command += [f"--ServerApp.port={int(port_text)}", "--ServerApp.port_retries=0"]
    if uid == 0:
        command.append("--allow-root")
    if not browser:
        command.append("--no-browser")
    return [*command, *paths]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: print or run the command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="notebooks or folders to open")
    parser.add_argument(
        "--print-command", action="store_true", help="print the command, do not run"
    )
    args = parser.parse_args(argv)
    found, reason = find_browser()
    command = lab_command(args.paths, browser=found)
    if args.print_command:
        print(shlex.join(command))
        return 0
    if not found:
        print(
            f"make lab: {reason}, so no browser is opened: open the URL "
            "the server prints below (the one with ?token=) in a browser.",
            flush=True,
        )
    ip = lab_ip()
    if ip not in (DEFAULT_IP, "localhost", "::1"):
        print(
            f"make lab: listening on {ip}: other machines can reach the server "
            "(they need its token).",
            flush=True,
        )
    if os.name == "nt":  # no real exec on Windows
        return subprocess.call(command)
    os.execv(command[0], command)
    return 1  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
