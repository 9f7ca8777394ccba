"""Every lesson runs in JupyterLab in a real browser, as a learner runs it.

The test starts ``jupyter lab`` from this venv on 127.0.0.1 (free port, no
token, no news or update checks, settings and workspaces in a temporary
folder) serving a COPY of ``notebooks/``, opens each lesson in headless
Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright), clears the
outputs, runs Run > Run All Cells through the menus, waits until the kernel is
idle with no ``[*]`` prompt left, saves with File > Save Notebook and reads the
saved copy with nbformat. A lesson fails on any error output outside cells
tagged ``raises-exception`` and on any code cell left unexecuted. It also
screenshots a figure of lesson 00 and checks from its pixels that a plot in the
course palette is there (``build/browser/``).

Skipped unless ``RECSYS_BROWSER_TESTS=1`` (``make test-browser``), so
``make unit`` (``pytest tests``) never needs a browser. When enabled, a
missing Chromium is a failure, not a skip: ``tools/install_chromium.sh``.
``RECSYS_CHROMIUM`` points at another Chromium binary; ``RECSYS_BROWSER_NOTEBOOKS``
serves (a copy of) another folder of lessons, e.g. one with a deliberate error.
Two tests on synthetic notebooks check the checker itself: a
``raises-exception`` cell does not stop Run All, an untagged error is reported.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import pytest

from recsys_helpers import environment

REPO = Path(__file__).resolve().parents[2]
# The folder of notebooks served (a copy of it): the repo's, or another one
# (e.g. a copy with a deliberate error, to see the test fail).
NOTEBOOKS = Path(os.environ.get("RECSYS_BROWSER_NOTEBOOKS", REPO / "notebooks"))
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("[0-9]*.ipynb"))
ARTIFACTS = REPO / "build" / "browser"
CHROMIUM = os.environ.get("RECSYS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The lesson whose first rendered figure is screenshotted and checked.
FIGURE_LESSON = "00_getting_started.ipynb"
PALETTE_BLUE = (0x00, 0x72, 0xB2)  # recsys_helpers.plotting.PALETTE[0]

LESSON_TIMEOUT_S = 300  # lessons take up to ~90 s on 2 cores
START_TIMEOUT_S = 120  # server start, page load, kernel start

pytestmark = pytest.mark.skipif(
    os.environ.get("RECSYS_BROWSER_TESTS") != "1",
    reason="browser test: set RECSYS_BROWSER_TESTS=1 (or run `make test-browser`)",
)


# --------------------------------------------------------------------------
# What a saved notebook must satisfy, and what a figure must look like
# --------------------------------------------------------------------------


def notebook_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Error outputs outside ``raises-exception`` cells, and unexecuted cells."""
    problems, unexecuted = [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue  # JupyterLab does not send empty cells to the kernel
        tagged = "raises-exception" in cell.metadata.get("tags", [])
        for output in cell.get("outputs", []):
            if output.output_type == "error" and not tagged:
                problems.append(
                    f"cell {index} ({_first_line(cell)!r}) raised "
                    f"{output.ename}: {output.evalue}"
                )
        if cell.get("execution_count") is None:
            unexecuted.append(index)
    if unexecuted:
        problems.append(
            f"{len(unexecuted)} code cell(s) not executed: cells "
            f"{', '.join(map(str, unexecuted))} (first: "
            f"{_first_line(nb.cells[unexecuted[0]])!r})"
        )
    return problems


def _first_line(cell: nbformat.NotebookNode) -> str:
    return cell.source.strip().splitlines()[0][:60]


def measure_figure(path: Path) -> dict[str, float]:
    """Size, colour count, non-white fraction and palette-blue pixels of a PNG."""
    from PIL import Image

    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
    height, width = rgb.shape[:2]
    pixels = rgb.reshape(-1, 3)
    packed = (pixels[:, 0].astype(np.int32) << 16) | (pixels[:, 1] << 8) | pixels[:, 2]
    blue_distance = np.abs(pixels - np.array(PALETTE_BLUE)).max(axis=1)
    return {
        "width": width,
        "height": height,
        "distinct_colours": len(np.unique(packed)),
        "non_white_fraction": float((pixels.min(axis=1) < 235).mean()),
        "palette_blue_pixels": int((blue_distance <= 24).sum()),
    }


def assert_is_plot(path: Path) -> dict[str, float]:
    """Fail unless the screenshot at ``path`` shows a plot in the course palette."""
    m = measure_figure(path)
    print(
        f"\nfigure {path.relative_to(REPO) if path.is_relative_to(REPO) else path}: "
        f"{m['width']}x{m['height']} px, {m['distinct_colours']} colours, "
        f"non-white {m['non_white_fraction']:.3f}, "
        f"palette-blue #0072B2 pixels {m['palette_blue_pixels']}"
    )
    assert m["width"] >= 200 and m["height"] >= 150, f"figure too small: {m}"
    assert m["distinct_colours"] > 20, f"figure is (nearly) flat: {m}"
    assert 0.01 < m["non_white_fraction"] < 0.9, f"figure is blank or solid: {m}"
    assert m["palette_blue_pixels"] >= 200, f"no course-palette blue: {m}"
    return m


# --------------------------------------------------------------------------
# The JupyterLab server
# --------------------------------------------------------------------------


@dataclass
class LabServer:
    """A running ``jupyter lab`` serving ``root`` at ``url``."""

    url: str
    port: int
    root: Path
    log: Path
    process: subprocess.Popen = field(repr=False)

    def api(self, path: str, method: str = "GET") -> object:
        """Call the REST API (no token: authentication is off for the test).

        Requests other than GET carry the ``_xsrf`` cookie and header pair
        the server checks, as the browser's do.
        """
        headers = {}
        if method != "GET":
            with urllib.request.urlopen(f"{self.url}/lab", timeout=10) as response:
                cookies = response.headers.get_all("Set-Cookie") or []
            xsrf = next(
                c.split(";")[0].split("=", 1)[1]
                for c in cookies
                if c.startswith("_xsrf=")
            )
            headers = {"Cookie": f"_xsrf={xsrf}", "X-XSRFToken": xsrf}
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers=headers
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for failure messages."""
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def shutdown_kernel_of(self, api_path: str) -> None:
        """Shut down the session (and kernel) of one notebook: frees memory."""
        for session in self.api("/api/sessions"):
            if session["path"] == api_path:
                self.api(f"/api/sessions/{session['id']}", method="DELETE")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _write_json(path: Path, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2))


def _lab_settings(base: Path) -> tuple[Path, Path]:
    """A private Jupyter config dir and lab user-settings dir under ``base``.

    The config dir disables the announcements plugin (news and update checks);
    the user settings say "never" to news and update checks as well, and turn
    notebook windowing off so every cell (prompts, figures) is in the DOM.
    """
    config_dir = base / "jupyter-config"
    _write_json(
        config_dir / "labconfig" / "page_config.json",
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}},
    )
    settings = base / "lab-user-settings" / "@jupyterlab"
    _write_json(
        settings / "apputils-extension" / "notification.jupyterlab-settings",
        {"fetchNews": "false", "checkForUpdates": False},
    )
    _write_json(
        settings / "notebook-extension" / "tracker.jupyterlab-settings",
        {"windowingMode": "none"},
    )
    return config_dir, base / "lab-user-settings"


def _stop_server(server: LabServer) -> None:
    """SIGTERM (the server shuts its kernels down), SIGKILL what is left."""
    import psutil

    process = server.process
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        descendants = []
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    _, alive = psutil.wait_procs(descendants, timeout=15)
    for leftover in alive:
        print(f"killing leftover process {leftover.pid} of the lab server")
        leftover.kill()
    _, still_alive = psutil.wait_procs(alive, timeout=10)
    assert not still_alive, f"processes survived the server: {still_alive}"
    assert not _port_in_use(server.port), f"port {server.port} still answers"


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory: pytest.TempPathFactory):
    """``jupyter lab`` on 127.0.0.1 serving a copy of notebooks/; always stopped."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = base / "root"
    shutil.copytree(
        NOTEBOOKS,
        root / "notebooks",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    (root / "synthetic").mkdir()
    config_dir, user_settings = _lab_settings(base)
    port = _free_port()
    env = environment.quiet_env(
        {
            "RECSYS_DATASET": "shop",
            "JUPYTER_CONFIG_DIR": str(config_dir),
            "JUPYTER_DATA_DIR": str(base / "jupyter-data"),
            "JUPYTER_RUNTIME_DIR": str(base / "jupyter-runtime"),
            "IPYTHONDIR": str(base / "ipython"),
        }
    )
    env.pop("MPLBACKEND", None)  # inline figures, as a learner sees them
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--PasswordIdentityProvider.hashed_password=",
        f"--ServerApp.root_dir={root}",
        "--FileContentsManager.preferred_dir=notebooks",
        f"--LabApp.user_settings_dir={user_settings}",
        f"--LabApp.workspaces_dir={base / 'lab-workspaces'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        # Safety net if pytest itself is killed: the server ends on its own.
        "--MappingKernelManager.cull_idle_timeout=1200",
        "--ServerApp.shutdown_no_activity_timeout=1800",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    log = base / "server.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = LabServer(f"http://127.0.0.1:{port}", port, root, log, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited early:\n{server.log_tail()}")
            try:
                server.api("/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer:\n{server.log_tail()}")
                time.sleep(0.5)
        yield server
    finally:
        _stop_server(server)


# --------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """Headless Chromium with a fresh profile; records every non-local request."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run tools/install_chromium.sh (as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    external: list[str] = []

    def record(request) -> None:
        url = request.url
        if url.startswith(("http:", "https:", "ws:", "wss:")) and not url.split(
            "//", 1
        )[1].startswith(("127.0.0.1", "localhost")):
            external.append(url)

    with sync_api.sync_playwright() as playwright:
        # Playwright passes the profile as --user-data-dir itself.
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        context.on("request", record)
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()
    assert not external, f"the browser tried to reach the internet: {external}"


def _click_menu(page, menu: str, command: str) -> None:
    """Click a main-menu entry: the menu by its label, the item by command id."""
    page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=menu).first.click()
    item = page.locator(f".lm-Menu:visible .lm-Menu-item[data-command='{command}']")
    item.first.click()
    page.wait_for_timeout(200)


def _notebook_state(page) -> dict:
    return page.evaluate(
        """() => {
        const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
        const prompts = [...document.querySelectorAll(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
            .map(e => e.textContent.trim());
        const dialog = document.querySelector('.jp-Dialog');
        return {
            status: indicator ? indicator.getAttribute('data-status') : null,
            prompts: prompts.length,
            running: prompts.filter(t => t.startsWith('[*]')).length,
            blank: prompts.filter(t => t === '' || t.startsWith('[ ]')).length,
            dialog: dialog ? dialog.innerText : null,
            dirty: document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty').length,
        };
    }"""
    )


def _wait_for(page, condition, what: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        state = _notebook_state(page)
        if state["dialog"]:
            pytest.fail(f"a dialog blocks JupyterLab while {what}: {state['dialog']}")
        if condition(state):
            return state
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s {what}: {state}")
        time.sleep(0.5)


def _kernel_state(server: LabServer, api_path: str) -> str | None:
    for session in server.api("/api/sessions"):
        if session["path"] == api_path:
            return session["kernel"]["execution_state"]
    return None


def run_in_lab(
    server: LabServer, context, api_path: str, screenshot: Path | None = None
) -> nbformat.NotebookNode:
    """Open, clear, Run All, save ``api_path`` in JupyterLab; return the saved file.

    With ``screenshot``, the first rendered image is saved there after the run.
    """
    saved = server.root / api_path
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    started = time.monotonic()
    try:
        page.goto(f"{server.url}/lab/tree/{api_path}?reset", timeout=60_000)
        page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell").first.wait_for(
            timeout=START_TIMEOUT_S * 1000
        )
        # Run All before the kernel is idle races the kernel start.
        _wait_for(
            page,
            lambda s: (
                s["status"] == "idle" and _kernel_state(server, api_path) == "idle"
            ),
            "waiting for the kernel to start",
            START_TIMEOUT_S,
        )
        # Clear first: every prompt reads [ ] and every output is from this run.
        _click_menu(page, "Edit", "editmenu:clear-all")
        _wait_for(
            page,
            lambda s: s["prompts"] > 0 and s["blank"] == s["prompts"],
            "clearing the outputs",
            30,
        )
        _click_menu(page, "Run", "runmenu:run-all")
        _wait_for(
            page,
            lambda s: s["blank"] < s["prompts"],
            "waiting for Run All to start",
            30,
        )
        quiet = 0  # idle with no [*] on three polls in a row: the run is over
        deadline = time.monotonic() + LESSON_TIMEOUT_S
        while quiet < 3:
            state = _wait_for(
                page,
                lambda s: s["status"] == "idle" and s["running"] == 0,
                "running all cells",
                max(1.0, deadline - time.monotonic()),
            )
            kernel = _kernel_state(server, api_path)
            quiet = quiet + 1 if kernel == "idle" else 0
            time.sleep(0.5)
        run_s = time.monotonic() - started
        images = page.locator(".jp-NotebookPanel .jp-RenderedImage img")
        if screenshot is not None:
            screenshot.unlink(missing_ok=True)
        if screenshot is not None and images.count() > 0:
            image = images.first
            image.scroll_into_view_if_needed()
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0",
                arg=image.element_handle(),
            )
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            image.screenshot(path=str(screenshot))
        before = saved.stat().st_mtime_ns
        _click_menu(page, "File", "docmanager:save")
        deadline = time.monotonic() + 60
        while saved.stat().st_mtime_ns == before or _notebook_state(page)["dirty"]:
            if time.monotonic() > deadline:
                pytest.fail(f"{api_path} was not saved within 60 s")
            time.sleep(0.25)
        time.sleep(0.5)  # let the write finish before reading
        print(
            f"\n{api_path}: opened and ran in JupyterLab in {run_s:.1f} s "
            f"({state['prompts']} code cells)"
        )
        if page_errors:
            print(f"JavaScript errors on the page: {page_errors}")
        return nbformat.read(saved, as_version=4)
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / f"{Path(api_path).stem}-failure.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nfailure screenshot: {shot}\nserver log:\n{server.log_tail()}")
        except Exception as error:  # the page may be gone
            print(f"no failure screenshot: {error}")
        raise
    finally:
        page.close()
        try:
            server.shutdown_kernel_of(api_path)
        except urllib.error.URLError as error:
            print(f"could not shut down the kernel of {api_path}: {error}")


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------


@pytest.mark.timeout(LESSON_TIMEOUT_S + 2 * START_TIMEOUT_S)
@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_in_jupyterlab(lab_server, browser, lesson):
    screenshot = None
    if lesson == FIGURE_LESSON:
        screenshot = ARTIFACTS / f"{Path(lesson).stem}-figure.png"
    nb = run_in_lab(lab_server, browser, f"notebooks/{lesson}", screenshot)
    problems = notebook_problems(nb)
    if problems:
        pytest.fail(f"{lesson} in JupyterLab:\n" + "\n".join(problems), pytrace=False)
    if screenshot is not None:
        assert screenshot.exists(), f"{lesson} rendered no image in JupyterLab"
        assert_is_plot(screenshot)


def _synthetic_notebook(with_untagged_error: bool) -> nbformat.NotebookNode:
    """A figure, a tagged deliberate error, optionally an untagged one, a print."""
    cells = [
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\n\n"
            "from recsys_helpers import plotting\n\n"
            "plotting.use_course_style()"
        ),
        nbformat.v4.new_code_cell(
            "plt.plot([1, 2, 3, 4], [1, 4, 2, 5], linewidth=4)\nplt.show()"
        ),
        nbformat.v4.new_code_cell(
            "1 / 0  # deliberate", metadata={"tags": ["raises-exception"]}
        ),
    ]
    if with_untagged_error:
        cells.append(nbformat.v4.new_code_cell("undefined_name + 1"))
    cells.append(nbformat.v4.new_code_cell('print("after the errors")'))
    return nbformat.v4.new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            },
            "language_info": {"name": "python"},
        },
    )


@pytest.mark.timeout(3 * START_TIMEOUT_S)
def test_checker_passes_tagged_error_and_sees_figure(lab_server, browser):
    """Run All goes past a ``raises-exception`` cell; the figure is a plot."""
    path = lab_server.root / "synthetic" / "tagged_error_only.ipynb"
    nbformat.write(_synthetic_notebook(with_untagged_error=False), path)
    screenshot = ARTIFACTS / "synthetic-figure.png"
    nb = run_in_lab(
        lab_server, browser, "synthetic/tagged_error_only.ipynb", screenshot
    )
    assert notebook_problems(nb) == []
    assert nb.cells[2].outputs[0].ename == "ZeroDivisionError"  # it did run
    assert nb.cells[-1].outputs[0].text == "after the errors\n"
    assert screenshot.exists(), "the synthetic figure was not rendered"
    assert_is_plot(screenshot)


@pytest.mark.timeout(3 * START_TIMEOUT_S)
def test_checker_reports_untagged_error(lab_server, browser):
    """An untagged error fails the check and stops Run All."""
    path = lab_server.root / "synthetic" / "untagged_error.ipynb"
    nbformat.write(_synthetic_notebook(with_untagged_error=True), path)
    nb = run_in_lab(lab_server, browser, "synthetic/untagged_error.ipynb")
    problems = notebook_problems(nb)
    print("\nchecker on the broken notebook:\n" + "\n".join(problems))
    assert any("cell 3" in p and "NameError" in p for p in problems), problems
    assert not any("cell 2" in p for p in problems), problems  # the tagged one
    assert any("not executed: cells 4 " in p for p in problems), problems
