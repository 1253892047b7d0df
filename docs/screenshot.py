"""Rebuild the README's screenshots: `vanguard serve` with zero configuration in a scratch folder,
the planner asks a question in Debian's Chromium (docs/chat.png), saves one draft, and opens the
cost matrix (docs/matrix.png) and the KPI page (docs/kpis.png) beside it.

    python docs/screenshot.py [docs/chat.png]
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
QUESTION = "total forecast cost by category for rentals"


def main(target: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VANGUARD_")}
        env.update(VANGUARD_DATA_DIR=str(Path(scratch) / "data"), VANGUARD_LOG_LEVEL="warning")
        server = subprocess.Popen([sys.executable, "-m", "nlq.cli", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    httpx.get(f"{url}/health", timeout=2)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise SystemExit("vanguard serve did not start")
                    time.sleep(0.5)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 860}, base_url=url)
                page.goto("/login")
                page.get_by_label("Username").fill("planner")
                page.get_by_label("Password").fill("vanguard-planner")
                page.get_by_role("button", name="Log in").click()
                for question in ("how many cranes are rented?", QUESTION):
                    page.get_by_label("Ask a question", exact=False).fill(question)
                    page.keyboard.press("Enter")
                    expect(page.locator(".answer").first.locator(".stage")).to_have_text("Done.", timeout=30_000)
                page.screenshot(path=str(target))
                capture_planning_pages(page, target.parent)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"wrote {target}")


def capture_planning_pages(page, folder: Path) -> None:
    """One draft (a higher rate on the first rental), then the matrix and the KPIs showing it."""
    page.goto("/o/HOLNG/records?source=Rental")
    page.locator("table tbody tr th a").first.click()
    rate = page.locator("[name=monthlyRate]")
    rate.fill(str(round(float(rate.input_value() or 0) * 3 + 5000)))
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("[role=status]").first).to_contain_text("Draft saved")
    page.goto("/o/HOLNG/matrix")
    expect(page.locator("#matrix tbody tr").first).to_be_visible()
    page.screenshot(path=str(folder / "matrix.png"))
    page.goto("/o/HOLNG/kpis")
    expect(page.locator("#kpi-groups tbody tr").first).to_be_visible()
    page.screenshot(path=str(folder / "kpis.png"))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "chat.png"))
