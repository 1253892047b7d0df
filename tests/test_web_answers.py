"""Chat answers people keep, in a real browser (Debian's Chromium through Playwright): result tables
sorted by a header, the CSV download, the chart the result's shape asks for (the vendored Chart.js),
its PNG download, all under the pages' Content-Security-Policy and again after a reload."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import expect

from nlq.app import create_app
from nlq.config import Settings
from nlq.csv_export import csv_chunk
from store.pems.background import BackgroundServer
from tests.web_fixtures import ORG, log_in

BY_CATEGORY = "total forecast cost by category"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VENDOR = Path(__file__).resolve().parent.parent / "nlq" / "web" / "static" / "vendor"


def ask(page, question: str):
    page.get_by_label(re.compile("Ask a question")).fill(question)
    page.keyboard.press("Enter")
    answer = page.locator(".answer").first
    expect(answer.locator(".q")).to_have_text(question)
    expect(answer.locator(".stage")).to_have_text("Done.")
    return answer


def direct(site, sql: str) -> list[tuple]:
    with psycopg.connect(site.urls.app) as conn:
        return conn.execute(sql, {"org": ORG}).fetchall()


def column_texts(answer, index: int) -> list[str]:
    return answer.locator(f"table.result tbody tr td:nth-child({index + 1})").all_inner_texts()


def as_number(text: str) -> float | None:
    return float(text.replace(",", "")) if text else None


def chart_of(answer) -> dict:
    """What Chart.js drew in the answer's canvas, read through its public API."""
    return answer.locator(".chart canvas").evaluate("""(canvas) => {
        const chart = Chart.getChart(canvas);
        const value = chart.options.indexAxis === "y" ? chart.scales.x : chart.scales.y;
        return {type: chart.config.type, labels: chart.data.labels, series: chart.data.datasets.map((d) => d.label),
                stacked: Boolean(chart.options.scales && chart.options.scales.x && chart.options.scales.x.stacked),
                ticks: value ? value.ticks.map((t) => ({value: t.value, label: t.label})) : [],
                width: canvas.width, height: canvas.height};
    }""")


@pytest.fixture
def violations(page) -> Iterator[list[str]]:
    """Every Content-Security-Policy refusal Chromium reports on the page."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield seen


def test_clicking_a_header_sorts_numbers_as_numbers_with_nulls_last_and_aria_sort(page, site):
    log_in(page, "planner")
    answer = ask(page, BY_CATEGORY)
    costs = {c: (float(v) if v is not None else None) for c, v in direct(site,
             "SELECT category, sum(forecast_cost) FROM vanguard.pfa_mirror WHERE organization_id = %(org)s"
             " AND deleted_at IS NULL GROUP BY 1")}
    headers = answer.locator("table.result thead th")
    cost_header, category_header = headers.nth(1), headers.nth(0)
    known = sorted(v for v in costs.values() if v is not None)
    missing = [None] * sum(v is None for v in costs.values())

    cost_header.get_by_role("button").click()
    expect(cost_header).to_have_attribute("aria-sort", "ascending")
    assert [as_number(t) for t in column_texts(answer, 1)] == pytest.approx(known + missing)
    cost_header.get_by_role("button").click()
    expect(cost_header).to_have_attribute("aria-sort", "descending")
    assert [as_number(t) for t in column_texts(answer, 1)] == pytest.approx(known[::-1] + missing)
    # Each row keeps its own cells: the category beside each cost is still that category's.
    shown = dict(zip(column_texts(answer, 0), [as_number(t) for t in column_texts(answer, 1)]))
    assert shown == pytest.approx({c or "": v for c, v in costs.items()})

    category_header.get_by_role("button").click()
    expect(category_header).to_have_attribute("aria-sort", "ascending")
    expect(cost_header).not_to_have_attribute("aria-sort", re.compile("."))
    assert column_texts(answer, 0) == sorted(costs, key=str.casefold)


def test_the_sort_order_reads_numbers_and_numbered_names_as_people_do(page, site):
    log_in(page, "viewer")
    orders = page.evaluate("""() => {
        const rows = [[10], [null], [9], [-2.5], [100]];
        const names = [["Silo 10"], ["silo 9"], [null], ["Crane"], ["Silo 100"]];
        const pick = (data, order) => order.map((i) => data[i][0]);
        return [pick(rows, VanguardAnswerTable.sortedOrder(rows, 0, "ascending")),
                pick(rows, VanguardAnswerTable.sortedOrder(rows, 0, "descending")),
                pick(names, VanguardAnswerTable.sortedOrder(names, 0, "ascending")),
                pick(names, VanguardAnswerTable.sortedOrder(names, 0, "descending"))];
    }""")
    assert orders == [[-2.5, 9, 10, 100, None], [100, 10, 9, -2.5, None],
                      ["Crane", "silo 9", "Silo 10", "Silo 100", None], ["Silo 100", "Silo 10", "silo 9", "Crane", None]]


def test_the_csv_download_holds_the_columns_and_rows_as_shown(page, site):
    log_in(page, "planner")
    answer = ask(page, BY_CATEGORY)
    cost_header = answer.locator("table.result thead th").nth(1)
    cost_header.get_by_role("button").click()
    cost_header.get_by_role("button").click()  # descending, as the table now shows it
    expect(cost_header).to_have_attribute("aria-sort", "descending")
    expect(answer.locator(".csv-note")).to_have_text("")  # the whole answer: nothing to warn about
    with page.expect_download() as info:
        answer.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == "total-forecast-cost-by-category.csv"
    with open(download.path(), newline="", encoding="utf-8") as handle:
        got = list(csv.reader(handle))
    expected = direct(site, "SELECT category, sum(forecast_cost) FROM vanguard.pfa_mirror WHERE organization_id = %(org)s"
                            " AND deleted_at IS NULL GROUP BY 1 ORDER BY 2 DESC NULLS LAST")
    assert got[0] == answer.locator("table.result thead th").all_inner_texts() == ["category", "sum_forecast_cost"]
    assert [row[0] for row in got[1:]] == [c or "" for c, _ in expected]
    assert [float(row[1]) if row[1] else None for row in got[1:]] == pytest.approx(
        [float(v) if v is not None else None for _, v in expected])
    assert [row[0] for row in got[1:]] == column_texts(answer, 0)  # the order shown


def test_csv_cells_a_spreadsheet_would_run_are_escaped_as_the_server_escapes_them(page, site):
    log_in(page, "viewer")
    columns = ["=label", "value"]
    rows = [["=HYPERLINK(\"http://x\",\"y\")", -5], ["+1", 2.5], ["-1+2", None], ["@SUM(A1)", True],
            ["\tx", 0], ["a,b \"quoted\"", 1], ["line\nbreak", -0.25], ["plain", 1607200], ["a=b", 7]]
    built = page.evaluate("([columns, rows]) => VanguardAnswerTable.toCsv(columns, rows)", [columns, rows])
    assert built.encode("utf-8") == csv_chunk([columns, *rows])
    assert "'=HYPERLINK" in built and "\n'+1," in built and "\n'@SUM(A1)" in built and ",-5\r\n" in built


def test_a_cut_answer_says_its_csv_holds_only_the_rows_shown(browser, site):
    app = create_app(Settings(llm_provider="offline", query_max_rows=25, sync_enabled=False), site.urls, site.pems)
    server = BackgroundServer(app, lifespan="on")
    context = browser.new_context(base_url=server.start(), viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page, "planner")
        answer = ask(page, "list all records")
        expect(answer.locator(".summary .truncated")).to_be_visible()
        expect(answer.locator(".csv-note")).to_have_text(
            "The CSV holds the 25 rows shown: the answer was cut at the row cap.")
        with page.expect_download() as info:
            answer.get_by_role("button", name="Download CSV").click()
        with open(info.value.path(), newline="", encoding="utf-8") as handle:
            got = list(csv.reader(handle))
        ids = [row[0] for row in direct(site, "SELECT id FROM vanguard.pfa_mirror WHERE organization_id = %(org)s"
                                              " AND deleted_at IS NULL ORDER BY id LIMIT 25")]
        assert len(got) == 26 and got[0][0] == "id" and [row[0] for row in got[1:]] == [str(i) for i in ids]
    finally:
        context.close()
        server.stop()


@pytest.mark.parametrize(("question", "kind", "type_", "sql"), [
    (BY_CATEGORY, "bar", "bar", "SELECT count(DISTINCT coalesce(category, '')) FROM vanguard.pfa_mirror"
                                " WHERE organization_id = %(org)s AND deleted_at IS NULL"),
    ("total forecast cost per month of forecast start", "line", "line",
     "SELECT count(DISTINCT date_trunc('month', forecast_start)) FROM vanguard.pfa_mirror"
     " WHERE organization_id = %(org)s AND deleted_at IS NULL"),
    ("number of records per category and source", "stacked", "bar",
     "SELECT count(DISTINCT coalesce(category, '')) FROM vanguard.pfa_mirror WHERE organization_id = %(org)s"
     " AND deleted_at IS NULL"),
    ("percentage of items per source", "pie", "pie",
     "SELECT count(DISTINCT coalesce(source, '')) FROM vanguard.pfa_mirror WHERE organization_id = %(org)s"
     " AND deleted_at IS NULL"),
])
def test_the_chart_is_of_the_kind_the_results_shape_asks_for(page, site, violations, question, kind, type_, sql):
    log_in(page, "planner")
    answer = ask(page, question)
    expect(answer.locator(".chart")).to_have_attribute("data-kind", kind)
    drawn = chart_of(answer)
    assert drawn["type"] == type_ and drawn["stacked"] is (kind == "stacked")
    assert len(drawn["labels"]) == direct(site, sql)[0][0]
    if kind == "stacked":
        sources = [s or "(none)" for (s,) in direct(site, "SELECT DISTINCT source FROM vanguard.pfa_mirror"
                                                          " WHERE organization_id = %(org)s AND deleted_at IS NULL")]
        assert sorted(drawn["series"]) == sorted(sources)
    if kind == "line":  # in time order, read as months
        assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", label) for label in drawn["labels"])
    if kind == "pie":
        assert drawn["series"] == ["share_pct"]
    assert violations == []


def test_the_value_axis_has_round_ticks_with_thousands_separators(page, site):
    log_in(page, "planner")
    answer = ask(page, BY_CATEGORY)
    ticks = chart_of(answer)["ticks"]
    top = max(v or 0 for (v,) in direct(site, "SELECT sum(forecast_cost) FROM vanguard.pfa_mirror WHERE"
                                              " organization_id = %(org)s AND deleted_at IS NULL GROUP BY category"))
    values = [t["value"] for t in ticks]
    steps = {round(b - a, 6) for a, b in zip(values, values[1:])}
    assert len(ticks) >= 4 and len(steps) == 1 and values[0] == 0 and values[-1] >= float(top)
    step = steps.pop()
    assert step == float(f"{step:.1g}") or step == float(f"{step:.2g}")  # 1, 2, 2.5 or 5 times a power of ten
    assert all(t["label"] == f"{t['value']:,.0f}" for t in ticks if t["value"] >= 1000)


def test_the_chart_downloads_as_a_png(page, site):
    log_in(page, "planner")
    answer = ask(page, BY_CATEGORY)
    drawn = chart_of(answer)
    with page.expect_download() as info:
        answer.get_by_role("button", name="Download chart (PNG)").click()
    assert info.value.suggested_filename == "total-forecast-cost-by-category.png"
    with open(info.value.path(), "rb") as handle:
        data = handle.read()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (drawn["width"], drawn["height"]) and width > 300 and height > 150


def test_an_answer_keeps_its_sortable_table_csv_and_chart_after_a_reload(page, site, violations):
    log_in(page, "planner")
    ask(page, "number of records per category and source")
    expect(page).to_have_url(re.compile(r"[?&]c=[0-9a-f-]{36}"))
    rows = direct(site, "SELECT count(*) FROM (SELECT DISTINCT category, source FROM vanguard.pfa_mirror"
                        " WHERE organization_id = %(org)s AND deleted_at IS NULL) x")[0][0]
    policy = page.reload().headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy and "default-src 'self'" in policy
    answer = page.locator(".answer").first
    expect(answer.locator(".stage")).to_have_text("Done.")
    expect(answer.locator("table.result tbody tr")).to_have_count(rows)
    expect(answer.locator(".chart")).to_have_attribute("data-kind", "stacked")
    records = answer.locator("table.result thead th").nth(2)
    records.get_by_role("button").click()
    expect(records).to_have_attribute("aria-sort", "ascending")
    counts = [as_number(t) for t in column_texts(answer, 2)]
    assert counts == sorted(counts)
    with page.expect_download() as info:
        answer.get_by_role("button", name="Download CSV").click()
    with open(info.value.path(), newline="", encoding="utf-8") as handle:
        got = list(csv.reader(io.StringIO(handle.read())))
    assert got[0] == ["category", "source", "records"] and [int(r[2]) for r in got[1:]] == counts
    assert violations == []


def test_the_chart_library_is_vendored_minified_with_its_licence_and_needs_no_eval():
    library = (VENDOR / "chart.umd.min.js").read_text(encoding="utf-8")
    assert library.startswith("/*!\n * Chart.js v4.") and len(library.encode()) < 1024 * 1024
    assert library.count("\n") < 20  # the minified build, not the readable one
    assert "eval(" not in library and "new Function" not in library
    assert "MIT License" in (VENDOR / "chart.js-LICENSE.md").read_text(encoding="utf-8")


def test_a_reopened_answer_kept_in_part_says_its_csv_holds_only_the_kept_rows(page, site):
    log_in(page, "planner")
    total = direct(site, "SELECT count(*) FROM vanguard.pfa_mirror WHERE organization_id = %(org)s AND deleted_at IS NULL")[0][0]
    assert total > 200  # more than a conversation keeps of one answer
    answer = ask(page, "list all records")
    expect(answer.locator("table.result tbody tr")).to_have_count(total)
    expect(answer.locator(".csv-note")).to_have_text("")
    page.reload()
    answer = page.locator(".answer").first
    expect(answer.locator(".stage")).to_have_text("Done.")
    expect(answer.locator(".csv-note")).to_have_text(
        "The CSV holds the 200 rows kept with the conversation, not the whole answer.")
    with page.expect_download() as info:
        answer.get_by_role("button", name="Download CSV").click()
    with open(info.value.path(), newline="", encoding="utf-8") as handle:
        assert len(list(csv.reader(handle))) == 1 + 200


def test_long_labels_turn_the_bars_on_their_side_and_every_label_is_written_whole(page, site):
    log_in(page, "planner")
    answer = ask(page, "total forecast cost per manufacturer")
    names = [m or "(none)" for (m,) in direct(site, "SELECT DISTINCT manufacturer FROM vanguard.pfa_mirror"
                                                    " WHERE organization_id = %(org)s AND deleted_at IS NULL")]
    assert max(len(n) for n in names) > 14 and max(len(n) for n in names) <= 28
    drawn = answer.locator(".chart canvas").evaluate("""(canvas) => {
        const chart = Chart.getChart(canvas);
        const labels = chart.scales.y;
        return {axis: chart.options.indexAxis, written: labels.ticks.map((t) => t.label), left: labels.left,
                rotation: labels.labelRotation, plot: chart.chartArea.bottom - chart.chartArea.top};
    }""")
    assert drawn["axis"] == "y" and drawn["rotation"] == 0 and drawn["left"] >= 0
    assert sorted(drawn["written"]) == sorted(names)  # none skipped, none shortened
    assert drawn["plot"] >= 20 * len(names)  # room for each bar and its label
