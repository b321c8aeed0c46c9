"""HTML reports render offline: charts drawn, no request leaves localhost.  And a broken notebook fails the suite."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--enable-unsafe-swiftshader"]


def _suite(*args, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "pomodoro_core.report.suite", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


@pytest.fixture(scope="module")
def served_reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    res = _suite("--out", str(out), "--only", "01", "03", "08", "--", "--samples", "400")
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert (out / "index.html").exists() and (out / "_marimo").is_dir()
    with socket.socket() as s:  # a free port on localhost
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # a separate process, so the server does not compete with the browser driver for the GIL
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    yield out, f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


def test_reports_point_at_local_assets(served_reports):
    out, _ = served_reports
    for page in ("01_noise_decomposition.html", "03_schedule_coverage.html"):
        text = (out / page).read_text()
        assert "cdn.jsdelivr.net" not in text and "./_marimo/assets/" in text
        assert f"marimo edit notebooks/{page.replace('.html', '.py')} -- --samples 400" in text  # the static notice
    index = (out / "index.html").read_text()
    assert "01_noise_decomposition.html" in index and "residue vs chain σ / σ" in index and "marimo" in index
    assert "<th>verdict</th>" in index and "Verdict on pitfall 1:</b> With weights" in index  # the verdict's first sentence


def _render(url: str, expect: int = 1, needle: str = "", seconds: float = 60):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url, wait_until="networkidle", timeout=60_000)
        marks = page.locator("canvas.marks, svg.marks")
        for _ in range(int(seconds * 2)):  # charts render as they scroll into view: scroll and poll
            page.mouse.wheel(0, 600)
            if marks.count() >= expect:
                break
            page.wait_for_timeout(500)
        charts = marks.count()
        found = page.get_by_text(needle).count() > 0 if needle else True  # locators pierce shadow roots
        browser.close()
    return charts, found, [u for u in requests if not u.startswith("http://127.0.0.1")]


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian package 'chromium'; .ci/run installs it)")
@pytest.mark.parametrize(
    "page, n_charts, needle",
    [
        ("01_noise_decomposition.html", 3, "Verdict on pitfall 1"),
        ("03_schedule_coverage.html", 2, "Per-preset comparison"),
        ("03_schedule_coverage.html", 0, "the controls below are frozen at the values shown"),
        ("08_your_trajectory.html", 4, "of a perfect denoiser's"),
    ],
)
def test_report_renders_offline_in_chromium(served_reports, page, n_charts, needle):
    _, base = served_reports
    charts, found, external = _render(f"{base}/{page}", expect=n_charts, needle=needle)
    assert external == []
    assert charts >= n_charts
    assert found


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian package 'chromium'; .ci/run installs it)")
def test_the_3d_viewer_draws_and_steps_offline_in_a_static_report(served_reports):
    """The trajectory's 3-D view (3Dmol.js inlined) draws with WebGL and its own slider moves, with no network."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")
    _, base = served_reports
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        external = []
        page.on(
            "request",
            lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")) else external.append(r.url),
        )
        page.goto(f"{base}/08_your_trajectory.html", wait_until="networkidle", timeout=60_000)
        view = page.frame_locator("iframe").first
        view.locator("canvas").first.wait_for(timeout=60_000)
        caption = view.locator("#cap").inner_text()
        view.locator("#s").press("Home")
        first = view.locator("#cap").inner_text()
        browser.close()
    assert external == []
    assert caption.startswith("step ") and first.startswith("step 0:") and caption != first


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian package 'chromium'; .ci/run installs it)")
def test_a_cdn_page_is_blank_offline(served_reports):
    """The same page still pointing at the CDN draws nothing without network: the check above can fail."""
    out, base = served_reports
    cdn = out / "cdn_01.html"
    cdn.write_text(
        (out / "01_noise_decomposition.html")
        .read_text()
        .replace("./_marimo/", "https://cdn.jsdelivr.net/npm/@marimo-team/frontend@0/dist/")
    )
    charts, found, _ = _render(f"{base}/cdn_01.html", needle="Verdict on pitfall 1", seconds=10)
    assert charts == 0 and not found


def test_a_broken_notebook_fails_the_suite(tmp_path):
    nb = tmp_path / "99_broken.py"
    nb.write_text(
        "import marimo\napp = marimo.App()\n\n\n@app.cell\ndef _():\n    x = 1\n    return (x,)\n\n\n"
        "@app.cell\ndef _(x):\n    y = x / 0\n    return\n\n\nif __name__ == '__main__':\n    app.run()\n"
    )
    res = _suite("--notebooks", str(tmp_path), "--out", str(tmp_path / "out"), "--no-html")
    assert res.returncode != 0
    assert "FAILED 99_broken.py" in res.stderr
    assert "ZeroDivisionError" in res.stderr and "y = x / 0" in res.stderr


def test_an_out_that_is_a_file_or_unwritable_is_one_line(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    for out, reason in [(afile, "is a file, not a folder"), (afile / "sub", "cannot write there")]:
        res = _suite("--only", "03", "--no-html", "--out", str(out))
        assert res.returncode == 2 and reason in res.stderr and res.stderr.count("\n") == 1, res.stderr


def test_key_figures_keep_a_bar_inside_the_label():
    from pomodoro_core.report.suite import key_figures

    assert key_figures("x\nKEY| |D(x)| / σ at 16 Å | 0.25\n") == [("|D(x)| / σ at 16 Å", "0.25")]


def test_verdict_lines_give_title_and_first_sentence():
    from pomodoro_core.report.suite import verdicts
    from pomodoro_core.report.ui import first_sentence

    assert first_sentence("- **A** is 0.25 Å. Then more.\n- B.") == "**A** is 0.25 Å."
    assert first_sentence("no full stop") == "no full stop"
    assert verdicts("x\nVERDICT| Verdict on pitfall 8 | It holds: |D| is 3.\n") == [
        ("Verdict on pitfall 8", "It holds: |D| is 3.")
    ]
