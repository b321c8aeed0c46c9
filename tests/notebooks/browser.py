"""A notebook served live by `marimo run`, driven in headless Chromium with Playwright.

Cell outputs, statuses and errors are read from marimo's own websocket messages (`cell-op`), so a cell that fails
in the app view, where marimo shows no traceback and the section just disappears, is still caught.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# cells stopped because a parent stopped (mo.stop) or was interrupted are not failures
NOT_FAILURES = {"ancestor-stopped", "ancestor-prevented", "interruption"}
# no request may leave localhost
CHROMIUM_ARGS = ["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
# WebGL in software (SwiftShader) for the 3-D viewer only: it also composites the page in software GL, which costs
# about one core for as long as any cell runs (benchmarks/bench_notebook.py), so pages without the viewer go without
SOFTWARE_WEBGL = ["--enable-unsafe-swiftshader", "--use-angle=swiftshader"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveNotebook:
    """One open page of a served notebook: `settle()` waits for the kernel, `errors()` lists failed cells,
    `outputs()` maps each cell to its rendered output."""

    def __init__(self, page):
        self.page, self.status, self.failed, self.runs, self.last_frame = page, {}, [], 0, time.monotonic()
        self.external = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        page.on(
            "request",
            lambda r: (
                None
                if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:"))
                else self.external.append(r.url)
            ),
        )

    def _frame(self, payload) -> None:
        self.last_frame = time.monotonic()
        try:
            msg = json.loads(payload if isinstance(payload, str) else payload.decode())
        except (ValueError, UnicodeDecodeError):
            return
        data = msg.get("data") or {}
        if msg.get("op") == "completed-run":
            self.runs += 1
        if msg.get("op") != "cell-op":
            return
        if data.get("status"):
            self.status[data["cell_id"]] = data["status"]
        out = data.get("output") or {}
        if out.get("channel") == "marimo-error":
            errs = [e for e in out.get("data") or [] if e.get("type") not in NOT_FAILURES]
            self.failed += [(data["cell_id"], e) for e in errs]

    def settle(self, seconds: float = 120, after: int | None = None) -> None:
        """Wait until a run has completed (after `after` runs had) and no cell is queued or running for a second."""
        after = self.runs if after is None else after
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.page.wait_for_timeout(250)
            busy = any(s in ("running", "queued") for s in self.status.values())
            if self.runs > after and not busy and time.monotonic() - self.last_frame > 1.0:
                return
        raise TimeoutError(f"the notebook was still running after {seconds} s: {self.status}")

    def errors(self) -> list:
        return list(self.failed)

    def outputs(self) -> dict[str, str]:
        """{cell id: its output's HTML} (UI elements and charts carry their data in attributes)."""
        pairs = self.page.evaluate("Array.from(document.querySelectorAll('.output-area')).map(e => [e.id, e.innerHTML])")
        return dict(pairs)

    def output_with(self, needle: str) -> str:
        hits = [html for html in self.outputs().values() if needle in html]
        assert len(hits) == 1, f"{len(hits)} outputs contain {needle!r}"
        return hits[0]

    def act(self, action, seconds: float = 180) -> None:
        """Do `action(page)` and wait for the cells it sets off."""
        before = self.runs
        action(self.page)
        self.settle(seconds, after=before)

    def viewer_steps(self, frame: int = 0) -> tuple[int, str, str]:
        """The 3-D viewer in the `frame`-th iframe: (canvases drawn, caption, caption after its slider moved one step back)."""
        view = self.page.frame_locator("iframe").nth(frame)
        view.locator("canvas").first.wait_for(timeout=30_000)
        canvases, caption = view.locator("canvas").count(), view.locator("#cap").inner_text()
        slider = view.locator("#s")
        slider.focus()
        slider.press("ArrowLeft")
        return canvases, caption, view.locator("#cap").inner_text()

    def screenshot(self, path: Path) -> None:
        """The whole notebook: the viewport is stretched to the app's height (charts draw only when visible)."""
        height = self.page.evaluate(
            "Math.max(...Array.from(document.querySelectorAll('*')).map(e => e.scrollHeight), document.body.scrollHeight)"
        )
        self.page.set_viewport_size({"width": 1400, "height": min(int(height) + 40, 12000)})
        self.page.wait_for_timeout(1500)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True, type="jpeg", quality=70)
        self.page.set_viewport_size({"width": 1400, "height": 1000})


@contextlib.contextmanager
def served(notebook: str, *args: str, seconds: float = 180, webgl: bool = False, executable: str | None = None):
    """`marimo run notebooks/<notebook>` (or a path) on a free loopback port, one page open in Chromium (`executable`, by
    default Debian's; with software WebGL if `webgl`), first run settled."""
    from playwright.sync_api import sync_playwright

    port = free_port()
    path = notebook if Path(notebook).is_absolute() else f"notebooks/{notebook}"
    cmd = [sys.executable, "-m", "marimo", "run", path, "--headless", "--no-token", "--port", str(port)]
    cmd += ["--host", "127.0.0.1", "--no-sandbox", "--no-check", "--session-ttl", "5"]
    env = {k: v for k, v in os.environ.items() if k != "POMODORO_REPORT"}
    log = open(os.devnull, "w")  # noqa: SIM115
    server = subprocess.Popen([*cmd, *(["--", *args] if args else [])], cwd=ROOT, stdout=log, stderr=log, env=env)
    try:
        with sync_playwright() as p:
            flags = CHROMIUM_ARGS + (SOFTWARE_WEBGL if webgl else [])
            browser = p.chromium.launch(executable_path=executable or CHROMIUM, args=flags)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            live = LiveNotebook(page)
            for _ in range(60):  # the server needs a few seconds to start
                with contextlib.suppress(Exception):
                    page.goto(f"http://127.0.0.1:{port}", wait_until="domcontentloaded", timeout=10_000)
                    break
                time.sleep(0.5)
            live.settle(seconds)
            yield live
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


# Actions on a page: each returns `go(page)` for `LiveNotebook.act`.


def control(page, kind: str, label: str, part: str = "input"):
    """The `part` (input, select, [role=slider], button) inside the marimo control `kind` whose label contains `label`."""
    return page.locator(f'marimo-{kind}[data-label*="{label}"]').locator(part)


def set_number(label: str, value: str):
    def go(page):
        box = control(page, "number", label)
        box.fill(value)
        box.press("Enter")

    return go


def choose(label: str, option: str):
    return lambda page: control(page, "dropdown", label, "select").select_option(option)


def slide(label: str, presses: int, key: str = "ArrowRight"):
    def go(page):
        thumb = control(page, "slider", label, '[role="slider"]')
        thumb.focus()
        for _ in range(presses):
            thumb.press(key)
        thumb.blur()  # a debounced slider sends its value when released

    return go


def submit(button: str, **numbers: str):
    def go(page):
        for label, value in numbers.items():
            set_number(label, value)(page)
        page.get_by_role("button", name=button).click()

    return go
