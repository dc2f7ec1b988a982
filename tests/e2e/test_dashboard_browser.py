"""The dashboard in Chromium: login, the live overview, acting on alerts, dark mode, and
hostile names shown as text. Assertions wait with Playwright's `expect` (never sleeps)."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from playwright.async_api import expect

from api_support import XSS, now_utc
from browser_support import Site, Tab
from web_support import add_alert, finish_like_the_daemon, run
from wfmon.analytics.anomaly import Episode
from wfmon.analytics.baseline import Change
from wfmon.analytics.incidents import Incident
from wfmon.domain.alert import AlertState
from wfmon.storage.analytics import AnalyticsRepository

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

LIVE_WITHIN_MS = 2000
DARK_BG = "rgb(14, 18, 23)"  # --bg of the dark theme (base.css)
LIGHT_BG = "rgb(245, 246, 248)"


async def background(tab: Tab) -> str:
    return str(await tab.page.evaluate("getComputedStyle(document.body).backgroundColor"))


async def test_pages_send_to_the_login_and_back_then_show_the_overview(tab: Tab) -> None:
    await tab.log_in("/")
    page = tab.page
    await expect(page.get_by_role("heading", name="System health")).to_be_visible()
    await expect(page.locator("#wf-grid .wf-card")).to_have_count(3)
    await expect(page.locator("#firing")).to_contain_text("checkout failed 3 times in a row")
    await expect(page.locator("#recent tbody tr")).to_have_count(10)
    await tab.live()
    await page.goto(tab.url("/executions?status=failed"))  # already logged in: no detour
    await expect(page.get_by_role("heading", name="Executions")).to_be_visible()
    tab.assert_clean()


async def test_a_finished_execution_appears_on_open_pages_within_two_seconds(
    tab: Tab, site: Site
) -> None:
    await tab.log_in("/")
    other = await tab.page.context.new_page()  # a second tab, on the executions page
    await other.goto(tab.url("/executions"))
    await tab.live()
    await expect(other.locator("#live")).to_have_attribute("data-state", "live")

    result = run("private", now_utc(), durations=(21.0, 22.0, 23.0))
    execution_id = await finish_like_the_daemon(site.harness, result)

    row = tab.page.locator(f'#recent tr[data-id="{execution_id}"]')
    await expect(row).to_be_visible(timeout=LIVE_WITHIN_MS)
    await expect(row).to_contain_text("private")
    await expect(row.locator("[data-badge=status]")).to_have_text("succeeded")
    await expect(other.locator(f'#executions tr[data-id="{execution_id}"]')).to_be_visible(
        timeout=LIVE_WITHIN_MS
    )
    card = tab.page.locator('#wf-grid .wf-card[data-workflow="private"]')
    await expect(card.locator("[data-slot=last_run_at]")).to_have_text("just now")
    await other.close()
    tab.assert_clean()


async def test_an_alert_is_acknowledged_with_a_note_through_the_ui(tab: Tab, site: Site) -> None:
    alert_id = await add_alert(site.harness.db, "firing", "checkout is down for ack")
    await tab.log_in("/alerts")
    card = tab.page.locator(f"#alert-{alert_id}")
    await expect(card).to_have_attribute("data-state", "firing")
    await card.get_by_label("Note").fill("on it <b>now</b>")
    await card.get_by_role("button", name="Acknowledge").click()

    await expect(card).to_have_attribute("data-state", "acknowledged")
    moved = tab.page.locator(f'.alert-stack[data-state="acknowledged"] > #alert-{alert_id}')
    await expect(moved).to_be_visible()
    await expect(card.locator("[data-badge=state]")).to_have_text("acknowledged")
    await expect(card.locator("[data-slot=acknowledged_by]")).to_have_text("user:alice")
    await expect(card.get_by_role("button", name="Acknowledge")).to_be_hidden()

    await card.locator("details.history summary").click()
    note = card.locator(".event-note", has_text="on it <b>now</b>")  # a note is text, too
    await expect(note).to_be_visible()

    stored = await site.harness.services.alerts.get(alert_id)
    assert stored is not None
    assert stored.state is AlertState.ACKNOWLEDGED
    assert stored.acknowledged_by == "user:alice"
    tab.assert_clean()


async def test_an_alert_changed_elsewhere_moves_on_an_open_alerts_page(
    tab: Tab, site: Site
) -> None:
    alert_id = await add_alert(site.harness.db, "firing", "checkout is down for resolve")
    await tab.log_in("/alerts")
    await tab.live()
    client, csrf = await site.harness.session("alice")  # someone else, in another browser
    answer = await client.post(
        f"/api/v1/alerts/{alert_id}/resolve", headers={"X-CSRF-Token": csrf}, json={}
    )
    assert answer.status_code == 200, answer.text
    moved = tab.page.locator(f'.alert-stack[data-state="resolved"] > #alert-{alert_id}')
    await expect(moved).to_be_visible(timeout=LIVE_WITHIN_MS)
    tab.assert_clean()


async def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(tab: Tab) -> None:
    page = tab.page
    await page.emulate_media(color_scheme="dark")
    await tab.log_in("/")
    assert await background(tab) == DARK_BG
    toggle = page.locator("#theme-toggle")
    await expect(toggle).to_contain_text("Auto")

    await toggle.click()  # auto -> light, although the system is dark
    await expect(toggle).to_contain_text("Light")
    assert await background(tab) == LIGHT_BG
    await page.reload()
    assert await background(tab) == LIGHT_BG  # kept in localStorage, applied before paint

    await toggle.click()  # light -> dark
    await page.emulate_media(color_scheme="light")
    assert await background(tab) == DARK_BG
    await toggle.click()  # dark -> auto: the system's light again
    await expect(toggle).to_contain_text("Auto")
    assert await background(tab) == LIGHT_BG
    tab.assert_clean()


async def test_a_workflow_named_like_a_script_is_text_everywhere(tab: Tab, site: Site) -> None:
    page = tab.page
    await tab.log_in("/")
    await tab.live()
    card = page.locator("#wf-grid .wf-card").filter(has=page.locator(".wf-name", has_text=XSS))
    await expect(card.locator(".wf-name")).to_have_text(XSS)

    # Inserted by the browser, from a live event.
    execution_id = await finish_like_the_daemon(site.harness, run(XSS, now_utc()))
    row = page.locator(f'#recent tr[data-id="{execution_id}"]')
    await expect(row.locator(".wf-name")).to_have_text(XSS, timeout=LIVE_WITHIN_MS)

    await card.locator(".wf-name").click()
    await expect(page).to_have_url(tab.url("/workflows/" + quote(XSS, safe="")))
    await expect(page.get_by_role("heading", level=1)).to_have_text(XSS)
    await expect(page).to_have_title(f"{XSS} · wfmon")
    for path in (
        f"/executions/{site.seeded.xss_run}",
        "/executions?" + f"workflow={quote(XSS)}",
        "/alerts",
        "/performance?" + f"workflow={quote(XSS)}",
    ):
        await page.goto(tab.url(path))
        shown = page.locator("main :is(a, h1, h2)", has_text=XSS).first
        await expect(shown).to_be_visible()
        scripts = await page.evaluate(
            "[...document.scripts].map((s) => s.src ? new URL(s.src).pathname : 'inline')"
        )
        assert all(src.startswith("/ui/") for src in scripts), (path, scripts)
    tab.assert_clean()


async def test_the_execution_page_shows_the_waterfall_and_the_failed_assertion(
    tab: Tab, site: Site
) -> None:
    await tab.log_in(f"/executions/{site.seeded.failed_run}")
    page = tab.page
    await expect(page.locator(".waterfall .wf-row:not(.wf-axis)")).to_have_count(3)
    failed = page.get_by_role("group", name="Failed assertion")
    await expect(failed.locator(".expected")).to_contain_text("200")
    await expect(failed.locator(".actual")).to_contain_text("503")
    excerpt = page.locator("#step-2 details.excerpt")
    await expect(excerpt).to_have_attribute("open", "")
    await expect(excerpt.locator("pre")).to_have_text('{"error": "upstream <b>timeout</b>"}')
    tab.assert_clean()


async def test_run_now_starts_a_run_that_finishes_on_the_page(tab: Tab) -> None:
    await tab.log_in("/workflows/checkout")
    await tab.live()
    page = tab.page
    before = await page.locator("#wf-runs tbody tr").count()
    await page.get_by_role("button", name="Run now").click()
    await expect(page.locator("#toasts")).to_contain_text(re.compile(r"Run #\d+ started"))
    first = page.locator("#wf-runs tbody tr").first
    # The target (a closed port) refuses the connection: the run ends in error, live.
    await expect(first.locator("[data-badge=status]")).to_have_text("error", timeout=10000)
    assert await page.locator("#wf-runs tbody tr").count() == min(before + 1, 15)
    tab.assert_clean()


async def test_the_performance_page_draws_charts_with_anomalies_under_the_csp(
    tab: Tab, site: Site
) -> None:
    started = (now_utc() - timedelta(hours=2)).timestamp()
    episode = Episode(
        started, peak=6.0, value=2900.0, low=200.0, high=700.0, ended_at=started + 900
    )
    reason = "checkout duration 2.9 s vs expected 200-700 ms"
    await AnalyticsRepository(site.harness.db).record_changes(
        [Change("closed", "checkout", "", "duration", episode, reason)]
    )
    await tab.log_in("/performance?workflow=checkout&window=24h")
    page = tab.page
    await expect(page.locator("#chart-latency .main-svg").first).to_be_attached()
    await expect(page.locator("#chart-success .main-svg").first).to_be_attached()
    await expect(page.locator("#chart-latency")).not_to_have_class(re.compile("skeleton"))
    await expect(page.locator("#anomaly-list")).to_contain_text(reason)
    await expect(page.locator("#chart-latency .shapelayer path").first).to_be_attached()
    await expect(page.locator("#chart-success .shapelayer path")).to_have_count(0)
    tab.assert_clean()  # plotly.js would log a CSP violation for any inline style


def incident(workflows: tuple[str, ...], endpoint: str, minutes_ago: int) -> Incident:
    started = now_utc() - timedelta(minutes=minutes_ago)
    return Incident(
        key=f"shop.test|status 503|{endpoint}|{started.isoformat()}",
        host="shop.test",
        cause="status 503",
        started_at=started,
        last_at=now_utc(),
        failures=4,
        workflows=workflows,
        endpoints=(endpoint,),
        steps=("login",),
        example="503 Service Unavailable",
    )


def open_anomaly(workflow: str, reason: str, series: str = "ttfb") -> Change:
    started = (now_utc() - timedelta(minutes=20)).timestamp()
    episode = Episode(started, peak=0.8731, value=2900.0, low=200.0, high=700.0)
    return Change("opened", workflow, "", series, episode, reason)


async def prediction(site: Site, workflow: str) -> tuple[str, str]:
    """What /api/v1/predictions says of `workflow`: its chance as the page writes it, and
    why; it must be at risk."""
    answer = await site.harness.reader().get("/api/v1/predictions")
    [found] = [p for p in answer.json() if p["workflow"] == workflow]
    assert found["at_risk"], found
    return f"{math.floor(found['probability'] * 100 + 0.5)} %", found["reason"]


async def test_the_overview_shows_incidents_workflows_at_risk_and_open_anomalies(
    tab: Tab, site: Site
) -> None:
    h = site.harness
    await h.record([run(XSS, now_utc(), ok=False)])  # its latest run failed: at risk
    chance, why = await prediction(site, XSS)
    analytics = AnalyticsRepository(h.db)
    first = incident(("checkout", XSS), "POST /api/auth/login", 40)
    await analytics.record_incident(first)
    reason = "private ttfb 2.9 s vs expected 200-700 ms since 05:02 UTC"
    await analytics.record_changes([open_anomaly("private", reason)])

    await tab.log_in("/")
    page = tab.page
    panel = page.locator("#insights")
    await expect(panel.get_by_role("heading", name="Insights")).to_be_visible()
    risky = panel.locator("#at-risk .insight").filter(has=page.locator(".wf-name", has_text=XSS))
    await expect(risky.locator(".wf-name")).to_have_text(XSS)  # a name, not a script
    await expect(risky.locator(".wf-name")).to_have_attribute(
        "href",
        "/workflows/" + quote(XSS, safe="!'()*"),  # as encodeURIComponent writes it
    )
    await expect(risky.locator("[data-slot=percent]")).to_have_text(chance)
    await expect(risky.locator("[data-slot=reason]")).to_have_text(why)
    await expect(risky.locator("[data-badge=risk]")).to_have_text("at risk")

    item = panel.locator("#incidents .insight").filter(has_text=first.describe())
    await expect(item.locator("[data-slot=description]")).to_have_text(first.describe())
    assert XSS in first.describe()
    await expect(item.locator("[data-badge=state]")).to_have_text("open")
    await expect(item.locator("[data-slot=failures]")).to_have_text("4")
    await expect(item.locator(".wf-links .wf-name")).to_have_text(["checkout", XSS])

    anomaly = panel.locator("#open-anomalies .insight").filter(has_text=reason)
    await expect(anomaly.locator("[data-slot=score]")).to_have_text("0.87")
    await expect(anomaly.locator("[data-slot=series]")).to_have_text("ttfb")

    # Runs finishing bring the panel up to date (at most every 10 s).
    await tab.live()
    later = incident(("private",), "GET /api/cart", 5)
    await analytics.record_incident(later)
    await finish_like_the_daemon(h, run("private", now_utc()))
    fresh = panel.locator("#incidents [data-slot=description]", has_text=later.describe())
    await expect(fresh).to_be_visible(timeout=20000)

    await page.set_viewport_size({"width": 390, "height": 844})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    tab.assert_clean()


async def test_a_workflows_page_shows_its_prediction_and_open_anomalies(
    tab: Tab, site: Site
) -> None:
    h = site.harness
    await h.record([run("checkout", now_utc(), ok=False)])
    chance, why = await prediction(site, "checkout")
    mine = "step home of checkout ttfb 2.9 s vs expected 200-700 ms since 05:02 UTC"
    other = "private duration 9.1 s vs expected 200-700 ms since 05:02 UTC"
    await AnalyticsRepository(h.db).record_changes(
        [open_anomaly("checkout", mine), open_anomaly("private", other, "duration")]
    )

    await tab.log_in("/workflows/checkout")
    page = tab.page
    item = page.locator("#prediction .insight")
    await expect(item).to_have_count(1)
    await expect(item.locator("[data-badge=risk]")).to_have_text("at risk")
    await expect(item.locator("[data-slot=percent]")).to_have_text(chance)
    await expect(item.locator("[data-slot=reason]")).to_have_text(why)
    anomalies = page.locator("#open-anomalies")
    await expect(anomalies).to_contain_text(mine)
    await expect(anomalies).not_to_contain_text(other)  # another workflow's
    tab.assert_clean()


async def test_phones_get_every_page_without_sideways_scrolling(tab: Tab, site: Site) -> None:
    page = tab.page
    await page.set_viewport_size({"width": 390, "height": 844})
    await tab.log_in("/")
    for path in ("/", f"/executions/{site.seeded.failed_run}", "/executions", "/alerts"):
        await page.goto(tab.url(path))
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    tab.assert_clean()


async def test_the_keyboard_reaches_the_content_and_the_navigation(tab: Tab) -> None:
    await tab.log_in("/alerts")
    page = tab.page
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    await expect(skip).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()
    await page.get_by_role("link", name="Executions").focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(tab.url("/executions"))
    current = page.get_by_role("navigation", name="Main").locator('[aria-current="page"]')
    await expect(current).to_have_text("Executions")
    tab.assert_clean()


async def test_a_viewer_sees_alerts_without_the_buttons(tab: Tab, site: Site) -> None:
    await add_alert(site.harness.db, "firing", "seen by a viewer", opened=timedelta(minutes=1))
    await tab.log_in("/alerts", username="victor")
    page = tab.page
    await expect(page.get_by_text("Read-only")).to_be_visible()
    await expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)
    tab.assert_clean()


async def test_resolving_on_an_alerts_own_page_updates_its_history(tab: Tab, site: Site) -> None:
    alert_id = await add_alert(site.harness.db, "acknowledged", "checkout slow for resolve")
    await tab.log_in(f"/alerts/{alert_id}")
    page = tab.page
    await expect(page.locator("#events .event")).to_have_count(1)
    await page.get_by_label("Note").fill("fixed by a restart")
    await page.get_by_role("button", name="Resolve").click()
    await expect(page.locator(f"#alert-{alert_id}")).to_have_attribute("data-state", "resolved")
    latest = page.locator("#events .event").last
    await expect(latest).to_have_attribute("data-kind", "resolved")
    await expect(latest.locator(".event-note")).to_have_text("fixed by a restart")
    await expect(page.locator(".alert-actions")).to_be_hidden()
    tab.assert_clean()
