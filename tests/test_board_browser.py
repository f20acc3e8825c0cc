"""The board in a real browser: Debian's chromium driven through its chromedriver (nothing downloaded),
the board served on a local port over the harness's database and virtual clock, and people using it as
they would: a code from #登录 through the real dispatch path, the charts, a drill-down, a ticket, a
转派 that reaches the group, a grid worker kept to their grid, a resident refused, the big screen.
Without chromium the tests skip (make test installs it with apt); in CI they fail instead.
GRIDBOT_SCREENSHOTS=DIR also saves the overview and a ticket page there (docs/ was made so)."""
from __future__ import annotations

import asyncio
import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

from bot.board.app import create_app
from bot.board.server import address, bind
from tests.board_support import (COUNTY_ADMIN, GRID3_ROOM, GRID4_WORKER, login_code,
                                 report_in_both_towns)
from tests.databases import unavailable
from tests.harness import to_room

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    unavailable("the board's browser tests need Debian's chromium and chromium-driver (apt-get install chromium "
                "chromium-driver; make test does it)")
try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as err:                                 # pragma: no cover - dev extra missing
    unavailable(f"the board's browser tests need selenium (pip install -e '.[dev]'): {err}")

WAIT = 15   # seconds the browser may take to show something (a page load, an htmx swap)


class ServedBoard:
    """The board app on a free local port, served by uvicorn in its own thread and event loop."""

    def __init__(self, harness) -> None:
        self.sock = bind("127.0.0.1", 0)           # listening already: the browser may connect at once
        self.url = address(self.sock)
        self.server = uvicorn.Server(uvicorn.Config(create_app(harness.engine, harness.clock), log_level="warning",
                                                    access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])),
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def board(harness):
    served = ServedBoard(harness)
    yield served
    served.stop()


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1200", "--lang=zh-CN", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    # libfaketime (make test-night) is for the bot's processes; the browser runs on the real clock.
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME", "FAKETIME_NO_CACHE")}
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, env=env), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait_for(driver, condition):
    # An htmx swap replaces the elements a condition reads: read again rather than fail.
    return WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d))


def log_in(driver, board, contact_id: str, code: str) -> None:
    driver.get(board.url + "/")
    wait_for(driver, lambda d: "/login" in d.current_url)
    driver.find_element(By.ID, "contact_id").clear()
    driver.find_element(By.ID, "contact_id").send_keys(contact_id)
    driver.find_element(By.ID, "code").send_keys(code)
    driver.find_element(By.ID, "login-button").click()


def screenshot(driver, name: str) -> None:
    folder = os.environ.get("GRIDBOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))


async def test_an_admin_logs_in_reads_the_charts_drills_down_and_transfers_a_ticket(harness, board, browser):
    await report_in_both_towns(harness)
    await harness.say("wxid_liufang", "#受理 T1", GRID3_ROOM)
    await harness.say("wxid_liufang", "#办结 T1 已更换保险丝", GRID3_ROOM)
    await harness.tick(harness.clock.now() + timedelta(hours=5))          # T2, T3 overdue for acceptance
    code = await login_code(harness, COUNTY_ADMIN)

    # A wrong code first: refused, still on the login page.
    log_in(browser, board, COUNTY_ADMIN, f"{(int(code) + 1) % 1_000_000:06d}")
    error = wait_for(browser, lambda d: d.find_elements(By.ID, "login-error"))
    assert "验证码不对" in error[0].text and "/login" in browser.current_url
    browser.find_element(By.ID, "code").send_keys(code)
    browser.find_element(By.ID, "login-button").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "figures"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "遂川县 · 总览"

    # The charts are drawn: a bar per town, the 30-day trend with a point a day for each series.
    town_bars = browser.find_elements(By.CSS_SELECTOR, "#chart-children rect.bar")
    assert [b.get_attribute("data-value") for b in town_bars] == ["2", "1"]
    assert all(b.size["width"] > 0 and b.size["height"] > 0 for b in town_bars)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-trend circle.point.new")) == 30
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart-rates rect.bar")) == 1   # only 泉江 resolved one
    assert browser.find_element(By.ID, "overdue-accept").text == "2"
    red = browser.find_element(By.ID, "red-list").text
    assert "T2" in red and "T3" in red and "T1" not in red and "网格员刘芳" in red
    screenshot(browser, "board-overview.png")

    # Drill down: county → town → community → grid.
    browser.find_element(By.LINK_TEXT, "泉江镇城市社区党工委").click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "泉江镇城市社区党工委 · 总览")
    browser.find_element(By.CSS_SELECTOR, "#children a.drill").click()
    wait_for(browser, lambda d: d.find_element(By.TAG_NAME, "h1").text == "城南社区 · 总览")
    assert [b.get_attribute("data-value") for b in browser.find_elements(By.CSS_SELECTOR, "#chart-children rect.bar")] \
        == ["2", "0"]                                                         # 第3网格, 第4网格

    # A number → its tickets → a ticket.
    browser.find_element(By.ID, "overdue-accept").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "ticket-list"))
    rows = browser.find_element(By.ID, "ticket-list").text
    assert "T2" in rows and "T1" not in rows and "T3" not in rows
    browser.find_element(By.LINK_TEXT, "T2").click()
    wait_for(browser, lambda d: d.find_elements(By.ID, "ticket-facts"))
    assert "井盖翻了" in browser.find_element(By.ID, "ticket-text").text
    assert browser.find_element(By.ID, "ticket-department").text == "城管"
    assert "上报" in browser.find_element(By.ID, "timeline").text
    screenshot(browser, "board-ticket.png")

    # 转派 from the board: the page says so, the history notes the board, the grid room hears it.
    Select(browser.find_element(By.ID, "transfer-department")).select_by_value("market")
    browser.find_element(By.ID, "transfer-button").click()
    message = wait_for(browser, lambda d: d.find_elements(By.ID, "action-message"))
    assert "工单 T2 已由指挥中心陈主任从城管转派至市监" in message[0].text
    assert "经指挥看板操作" in browser.find_element(By.ID, "timeline").text
    sent = await harness.tick(harness.clock.now())
    assert [o.text for o in to_room(sent, GRID3_ROOM)] == [message[0].text]
    assert to_room(sent, "县市监局工单群")


async def test_a_grid_worker_sees_only_their_grid(harness, board, browser):
    await report_in_both_towns(harness)
    await harness.say("wxid_res_d", "4网格这边路灯不亮了好几天", "城南社区第4网格群")
    log_in(browser, board, GRID4_WORKER, await login_code(harness, GRID4_WORKER))
    wait_for(browser, lambda d: d.find_elements(By.ID, "figures"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "第4网格 · 总览"
    browser.get(board.url + "/tickets?f=all")
    rows = wait_for(browser, lambda d: d.find_elements(By.ID, "ticket-list"))[0].text
    assert "T4" in rows and "T1" not in rows and "T2" not in rows
    browser.get(board.url + "/tickets/T1")
    assert wait_for(browser, lambda d: d.find_elements(By.ID, "message"))[0].text == "无权查看工单 T1"


async def test_a_resident_is_refused(harness, board, browser):
    sent = await harness.say("wxid_res_a", "#登录")
    assert sent[0].text == "只有管理员或网格员可以登录指挥看板。"
    log_in(browser, board, "wxid_res_a", "000000")
    error = wait_for(browser, lambda d: d.find_elements(By.ID, "login-error"))
    assert "验证码不对" in error[0].text
    browser.get(board.url + "/api/tickets")
    assert "未登录" in browser.find_element(By.TAG_NAME, "body").text


async def test_the_big_screen_refreshes_itself_without_reloading(harness, board, browser):
    await report_in_both_towns(harness)
    log_in(browser, board, COUNTY_ADMIN, await login_code(harness, COUNTY_ADMIN))
    wait_for(browser, lambda d: d.find_elements(By.ID, "figures"))
    browser.get(board.url + "/screen")
    wait_for(browser, lambda d: d.find_elements(By.ID, "screen-body"))
    assert browser.find_element(By.ID, "screen-body").get_attribute("hx-trigger") == "every 30s, refresh"
    assert browser.find_element(By.ID, "open-count").text == "3"
    browser.execute_script("window.stillTheSamePage = true;")
    await harness.say("wxid_res_e", "上坪村4组的路边电线杆歪了，很危险", "上坪村4组村民群")
    # What every 30 s does, now: htmx fetches the figures and swaps them in place.
    browser.execute_script("htmx.trigger('#screen-body', 'refresh');")
    wait_for(browser, lambda d: d.find_element(By.ID, "open-count").text == "4")
    assert browser.execute_script("return window.stillTheSamePage === true;")
    assert not browser.find_elements(By.CSS_SELECTOR, "header.top nav")[0].is_displayed()
