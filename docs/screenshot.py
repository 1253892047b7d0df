"""Rebuild the README's screenshots: `vanguard serve` with zero configuration in a scratch folder,
the planner uses each page in Debian's Chromium, the page is captured.

    python docs/screenshot.py [chat] [timeline] [planning]     (default: all of them, into docs/)

chat.png: two questions answered. timeline.png: the timeline at year zoom after the planner
dragged one forecast three months later (the draft bar and PEMS's forecast as its ghost).
planning: matrix.png and kpis.png, after one draft raised the first rental's rate.
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


def shoot_chat(page, target: Path) -> None:
    for question in ("how many cranes are rented?", QUESTION):
        page.get_by_label("Ask a question", exact=False).fill(question)
        page.keyboard.press("Enter")
        expect(page.locator(".answer").first.locator(".stage")).to_have_text("Done.", timeout=30_000)
    page.screenshot(path=str(target))


def shoot_timeline(page, target: Path) -> None:
    page.goto(page.url.rsplit("/", 1)[0] + "/timeline?zoom=year")
    bar = page.locator(".tl-row:not(:has(rect.actual)) rect.forecast").nth(1)  # not on site: its start may move
    expect(bar).to_be_attached(timeout=30_000)
    box, area = bar.bounding_box(), page.locator(".tl-scroll").bounding_box()
    left = max(box["x"], area["x"] + 270)  # right of the sticky label column
    x, y = (left + min(box["x"] + box["width"], area["x"] + area["width"] - 20)) / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 41, y, steps=8)  # 0.45 px a day at year zoom: about three months later
    page.mouse.up()
    expect(page.locator("#tl-status")).to_contain_text("Draft saved", timeout=30_000)
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    page.screenshot(path=str(target))




def main(names: list[str]) -> None:
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
                expect(page.get_by_label("Ask a question", exact=False)).to_be_visible()
                home = page.url
                for name in names:
                    page.goto(home)
                    SHOTS[name](page, Path(__file__).parent / f"{name}.png")
                    print(f"wrote docs/{name}.png" if name != "planning" else "wrote docs/matrix.png, docs/kpis.png")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


def shoot_planning(page, target: Path) -> None:
    capture_planning_pages(page, target.parent)


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


SHOTS = {"chat": shoot_chat, "timeline": shoot_timeline, "planning": shoot_planning}


if __name__ == "__main__":
    unknown = sorted(set(sys.argv[1:]) - set(SHOTS))
    if unknown:
        raise SystemExit(f"unknown screenshot {unknown[0]!r}; choose from {', '.join(SHOTS)}")
    main(sys.argv[1:] or list(SHOTS))
