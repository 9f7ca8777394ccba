"""``make lab``: the command it builds (tools/lab.py), and a real start of it.

The start test runs ``make lab`` itself on a free port with a known token
(``JUPYTER_TOKEN``), waits until ``http://127.0.0.1:PORT/lab`` answers 200,
checks that the server listens on the loopback address only and printed its
URL, and always stops it (the whole process group, in a ``finally``). It
runs once as the current user and, when that is root, once more as an
unprivileged one (``setpriv``): ``--allow-root`` must appear exactly when it
is needed. ``make -o .venv/.installed`` keeps make from reinstalling the venv
when pyproject.toml or the lock is newer than it: the test is about starting
JupyterLab, not about installing it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

import pytest

from tools import lab

ROOT = Path(__file__).resolve().parents[1]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
STAMP = ".venv/.installed"
START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 20
UNPRIVILEGED_UID = 65534  # "nobody" on Debian and most Linux systems
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


class _Browser:
    def __init__(self, name: str) -> None:
        self.name = name


def _no_browser():
    raise webbrowser.Error("could not locate runnable browser")


# --------------------------------------------------------------------------
# Which browser rule, which flags
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "environ", "get", "expected"),
    [
        ("linux", {}, lambda: _Browser("firefox"), False),  # headless
        ("linux", {"DISPLAY": ""}, lambda: _Browser("firefox"), False),
        ("linux", {"DISPLAY": ":0"}, lambda: _Browser("firefox"), True),
        ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, lambda: _Browser("gio"), True),
        ("linux", {"DISPLAY": ":0"}, _no_browser, False),
        ("linux", {"DISPLAY": ":0"}, lambda: _Browser("w3m"), False),  # text mode
        ("linux", {"BROWSER": "wslview"}, lambda: _Browser("wslview"), True),
        ("linux", {"BROWSER": "nothing"}, _no_browser, False),
        ("darwin", {}, lambda: _Browser("MacOSX"), True),
        ("darwin", {}, _no_browser, False),
        ("win32", {}, lambda: _Browser("windows-default"), True),
    ],
)
def test_browser_rule(platform, environ, get, expected):
    found, reason = lab.find_browser(environ, platform, get)
    assert found is expected, reason
    assert reason


@pytest.mark.parametrize(("uid", "flagged"), [(0, True), (1000, False)])
def test_allow_root_only_as_root(uid, flagged):
    command = lab.lab_command(["nb.ipynb"], environ={}, uid=uid, browser=True)
    assert ("--allow-root" in command) is flagged


def test_no_allow_root_without_uids(monkeypatch):
    monkeypatch.delattr(os, "geteuid", raising=False)  # as on Windows
    command = lab.lab_command([], environ={}, browser=True)
    assert "--allow-root" not in command


def test_no_browser_flag_follows_the_rule():
    with_browser = lab.lab_command([], environ={}, uid=1000, browser=True)
    without = lab.lab_command([], environ={}, uid=1000, browser=False)
    assert "--no-browser" not in with_browser
    assert "--no-browser" in without


def test_defaults_bind_loopback_and_leave_the_port_to_jupyter():
    command = lab.lab_command(["a.ipynb"], environ={}, uid=1000, browser=True)
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert "--ServerApp.ip=127.0.0.1" in command
    assert not [c for c in command if c.startswith("--ServerApp.port")]
    assert command[-1] == "a.ipynb"


def test_lab_ip_and_lab_port():
    environ = {"LAB_IP": "0.0.0.0", "LAB_PORT": " 8890 "}
    command = lab.lab_command([], environ=environ, uid=1000, browser=False)
    assert "--ServerApp.ip=0.0.0.0" in command
    assert "--ServerApp.ip=127.0.0.1" not in command
    assert "--ServerApp.port=8890" in command
    assert "--ServerApp.port_retries=0" in command  # a taken port is an error


@pytest.mark.parametrize("port", ["abc", "0", "65536", "-1", "80.5"])
def test_a_bad_lab_port_is_a_clear_error(port):
    with pytest.raises(SystemExit, match="LAB_PORT"):
        lab.lab_command([], environ={"LAB_PORT": port}, uid=1000, browser=True)


def _headless_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DISPLAY": "", "WAYLAND_DISPLAY": "", **extra}
    for name in ("BROWSER", "LAB_IP", "LAB_PORT", "MAKEFLAGS", "MFLAGS"):
        if name not in extra:
            env.pop(name, None)
    return env


def _print_command(prefix: list[str], python: str) -> list[str]:
    script = str(ROOT / "tools" / "lab.py")
    shell = ["/bin/sh", "-c", 'exec "$0" "$@"'] if prefix else []
    return subprocess.run(
        [*prefix, *shell, python, script, "--print-command", "x.ipynb"],
        env=_headless_env(LAB_PORT="8899"),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()


def test_print_command_of_this_process():
    out = _print_command([], sys.executable)
    assert "--ServerApp.ip=127.0.0.1" in out and "--ServerApp.port=8899" in out
    assert "--no-browser" in out  # no display: no browser
    assert ("--allow-root" in out) is IS_ROOT
    assert out[-1] == "x.ipynb"


def test_print_command_as_an_unprivileged_user():
    """tools/lab.py needs only the standard library: any Python will do."""
    prefix = _unprivileged_prefix()
    python = _python_usable_by(prefix, [sys.executable, "/usr/bin/python3"])
    if python is None:
        pytest.skip(f"no Python here that uid {UNPRIVILEGED_UID} may run")
    out = _print_command(prefix, python)
    assert "--allow-root" not in out
    assert "--no-browser" in out and "--ServerApp.ip=127.0.0.1" in out


# --------------------------------------------------------------------------
# `make lab`, started for real
# --------------------------------------------------------------------------


def _unprivileged_prefix() -> list[str]:
    if not IS_ROOT:
        pytest.skip("already unprivileged: the current-user run covers it")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    return [
        setpriv,
        f"--reuid={UNPRIVILEGED_UID}",
        f"--regid={UNPRIVILEGED_UID}",
        "--clear-groups",
    ]


def _python_usable_by(
    prefix: list[str], candidates: list[str], code: str = "pass"
) -> str | None:
    """The first interpreter that runs ``code`` under ``prefix``, if any."""
    for python in candidates:
        if not Path(python).exists():
            continue
        # through a shell: setpriv may exec a file its target user cannot
        run = subprocess.run(
            [*prefix, "/bin/sh", "-c", 'exec "$0" -c "$1"', python, code],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if run.returncode == 0:
            return python
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # report the 302 itself


# Loopback only: never through a proxy, never following redirects.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    """Status and Location of a GET (no redirects followed)."""
    headers = {"Authorization": f"token {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with _OPENER.open(request, timeout=5) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def _listening_addresses(pid: int) -> set[str]:
    """Addresses the process tree of ``pid`` listens on (TCP)."""
    import psutil

    addresses = set()
    parent = psutil.Process(pid)
    for process in [parent, *parent.children(recursive=True)]:
        try:
            connections = process.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        addresses |= {c.laddr.ip for c in connections if c.status == psutil.CONN_LISTEN}
    return addresses


def _descendants_command_lines(pid: int) -> str:
    """The command lines of the processes ``pid`` started, one per line."""
    import psutil

    lines = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            lines.append(" ".join(child.cmdline()))
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return "\n".join(lines)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the whole process group (make and jupyter), then SIGKILL."""
    for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
        # make is gone; give what is left of its group the same time
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


@pytest.mark.timeout(START_TIMEOUT_S + 3 * STOP_TIMEOUT_S + 30)
@pytest.mark.parametrize("user", ["current", "unprivileged"])
def test_make_lab_serves_jupyterlab_on_loopback(user):
    if os.name != "posix":
        pytest.skip("make lab's process handling here is POSIX's")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if (
        not VENV_PYTHON.exists()
        or subprocess.run(
            [str(VENV_PYTHON), "-c", "import jupyterlab"], capture_output=True
        ).returncode
    ):
        pytest.skip("jupyterlab is not installed in .venv: run `make install`")
    prefix = _unprivileged_prefix() if user == "unprivileged" else []
    if prefix and not _python_usable_by(
        prefix, [str(VENV_PYTHON)], "import jupyterlab"
    ):
        pytest.skip(
            f"uid {UNPRIVILEGED_UID} may not run .venv's Python on this machine "
            f"({VENV_PYTHON.resolve()} is in a folder only its owner can read)"
        )

    port, token = _free_port(), secrets.token_hex(16)
    base = Path(tempfile.mkdtemp(prefix="recsys-make-lab-"))
    try:
        # A safety net if pytest itself is killed: the server stops on its own.
        config = base / "config"
        config.mkdir()
        (config / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"shutdown_no_activity_timeout": 600}})
        )
        # headless (no DISPLAY): make lab must print the URL and open nothing
        env = _headless_env(
            LAB_PORT=str(port),
            JUPYTER_TOKEN=token,
            HOME=str(base),
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_DATA_DIR=str(base / "data"),
            JUPYTER_RUNTIME_DIR=str(base / "runtime"),
            IPYTHONDIR=str(base / "ipython"),
        )
        if prefix:
            for path in [base, *base.rglob("*")]:
                os.chown(path, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
        log_path = base / "make-lab.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [*prefix, "make", "--no-print-directory", "-o", STAMP, "lab"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )
        try:
            url = f"http://127.0.0.1:{port}/lab"
            deadline = time.monotonic() + START_TIMEOUT_S
            status = None
            while status != 200:
                if process.poll() is not None:
                    pytest.fail(f"make lab exited early:\n{log_path.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"{url} did not answer 200 within {START_TIMEOUT_S} s "
                        f"(last: {status}):\n{log_path.read_text()}"
                    )
                try:
                    status, _ = _get(url, token)
                except (urllib.error.URLError, OSError):
                    status = None
                time.sleep(0.3)

            output = log_path.read_text()
            # the token is required: without it /lab sends to the login page
            status, location = _get(url)
            assert status == 302 and "/login" in location, (status, location)
            assert _listening_addresses(process.pid) == {"127.0.0.1"}
            command_line = output.splitlines()[0]
            assert "tools/lab.py" in command_line, output
            assert "no browser is opened" in output
            assert f"http://127.0.0.1:{port}/lab?token=" in output  # the URL
            started = _descendants_command_lines(process.pid)
            assert "-m jupyterlab" in started, started
            assert "--no-browser" in started
            assert ("--allow-root" in started) is (IS_ROOT and not prefix), started
        finally:
            _stop(process)
        assert not _port_answers(port), f"port {port} still answers after the stop"
    finally:
        shutil.rmtree(base, ignore_errors=True)
