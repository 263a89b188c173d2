"""Drives rigor serve's dashboard and a rigor report in headless Chromium through Selenium.

Run by Tests/RigorServerTests/BrowserTests.swift (part of `make test`), which starts the real
server on a store it filled and passes:

    dashboard_check.py BASE_URL REPORT_FILE SCREENSHOT_DIR HOSTILE_RUN_ID

Prints one JSON object: {"checks": [...names passed...], "failures": [...messages...]} and exits
1 when any check failed. Chromium runs as root here, hence --no-sandbox.
"""
import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, REPORT, SHOTS, HOSTILE = sys.argv[1:5]
checks, failures = [], []

# Anything the planted payloads would do if they ran or became markup.
INJECTED = ("return [window.__xss === undefined ? null : String(window.__xss),"
            " document.querySelectorAll('img[src=\"x\"], svg[onload], [onerror], [onmouseover], script:not([src]):not([type=\"application/json\"])').length]")


def check(name, ok, detail=""):
    (checks if ok else failures).append(name if ok else "%s: %s" % (name, detail))


def no_injection(driver, where):
    executed, elements = driver.execute_script(INJECTED)
    check("nothing executed on " + where, executed is None, "window.__xss = %r" % executed)
    check("no injected element on " + where, elements == 0, "%d injected elements" % elements)


def shot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    driver.save_screenshot(os.path.join(SHOTS, name))


options = webdriver.ChromeOptions()
options.binary_location = os.environ.get("RIGOR_CHROMIUM", "/usr/bin/chromium")
for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
            "--no-first-run", "--disable-extensions"):
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service(os.environ.get("RIGOR_CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
# Generous: under a loaded machine (the whole suite runs in parallel on 2 cores) Chromium's
# renderer can take tens of seconds to answer; a slow load is not a failed check.
driver.set_page_load_timeout(180)
driver.set_script_timeout(60)
try:
    # Every page loads and is not an error page.
    for path, heading in [("/runs", "Runs"), ("/metrics", "Metrics"), ("/baselines", "Baselines & CI"),
                          ("/ledger", "Ledger"), ("/bundles", "Bundles")]:
        driver.get(BASE + path)
        h1 = driver.find_element(By.TAG_NAME, "h1").text
        check("page " + path, h1 == heading, "h1 is %r" % h1)
        no_injection(driver, path)

    driver.get(BASE + "/runs")
    rows = driver.find_elements(By.CSS_SELECTOR, "#runs tr.run")
    check("runs listed", len(rows) >= 4, "%d rows" % len(rows))
    shot(driver, "dashboard.png")

    # Filter: failures only, through the form.
    Select(driver.find_element(By.ID, "f-outcome")).select_by_value("failure")
    driver.find_element(By.ID, "apply").click()
    WebDriverWait(driver, 60).until(lambda d: "outcome=" in d.current_url)
    check("filter in the URL", "outcome=failure" in driver.current_url, driver.current_url)
    rows = driver.find_elements(By.CSS_SELECTOR, "#runs tr.run")
    outcomes = [r.find_elements(By.TAG_NAME, "td")[2].text for r in rows]
    check("filtered to failures", rows and all(not o.startswith("success") for o in outcomes), repr(outcomes))
    driver.find_element(By.ID, "f-task").send_keys("filesystem_hidden_config@1")
    driver.find_element(By.ID, "apply").click()
    WebDriverWait(driver, 60).until(lambda d: "task=filesystem" in d.current_url)
    rows = driver.find_elements(By.CSS_SELECTOR, "#runs tr.run")
    tasks = [r.find_elements(By.TAG_NAME, "td")[3].text for r in rows]
    check("filtered by task too", all(t == "filesystem_hidden_config@1" for t in tasks), repr(tasks))

    # Open a run from the list.
    driver.get(BASE + "/runs?outcome=success")
    driver.find_element(By.CSS_SELECTOR, "a.run-link").click()
    WebDriverWait(driver, 60).until(lambda d: "/runs/" in d.current_url)
    check("run page opens", driver.find_element(By.TAG_NAME, "h1").text.startswith("Run "), driver.title)
    steps = driver.find_elements(By.CSS_SELECTOR, ".steps .step")
    check("run page shows the step timeline", len(steps) >= 1, "%d steps" % len(steps))
    check("run page draws the burn-down", len(driver.find_elements(By.CSS_SELECTOR, "svg polyline")) >= 1)
    shot(driver, "run.png")

    # The hostile run: its payloads are shown as text, nothing runs.
    driver.get(BASE + "/runs/" + HOSTILE)
    no_injection(driver, "the hostile run")
    text = driver.find_element(By.TAG_NAME, "body").text
    check("payload shown as text", "<img src=x onerror=" in text, "payload text missing")
    shot(driver, "hostile-run.png")

    # A diff of two runs picked in the list.
    driver.get(BASE + "/runs")
    boxes = driver.find_elements(By.CSS_SELECTOR, "input.pick")
    boxes[0].click()
    boxes[1].click()
    driver.find_element(By.ID, "diff-picked").click()
    WebDriverWait(driver, 60).until(lambda d: "/diff" in d.current_url)
    check("diff opens", driver.find_elements(By.ID, "diff") != [], driver.current_url)
    check("diff names both runs", "a=" in driver.current_url and "b=" in driver.current_url, driver.current_url)
    shot(driver, "diff.png")
    driver.get(BASE + "/diff?a=" + HOSTILE + "&b=latest")
    no_injection(driver, "a diff with the hostile run")

    # The report: a file, no server; a run link jumps to the run's section.
    driver.get("file://" + os.path.abspath(REPORT))
    no_injection(driver, "the report")
    links = driver.find_elements(By.CSS_SELECTOR, "a.run-link")
    check("report links runs", len(links) >= 1, "no run links")
    target = links[0].get_attribute("href").split("#", 1)[1]
    links[0].click()
    check("report link followed", driver.current_url.endswith("#" + target), driver.current_url)
    section = driver.find_element(By.ID, target)
    check("report section shown", section.is_displayed() and section.find_element(By.TAG_NAME, "h2").text.startswith("Run "))
    data = json.loads(driver.find_element(By.ID, "rigor-data").get_attribute("textContent"))
    check("report data parses", data.get("view") == "rigor.report/1" and len(data.get("runs", [])) >= 4)
    shot(driver, "report.png")
except Exception as e:  # a missing element or a timeout is a failed check, reported
    failures.append("%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else ""))
finally:
    driver.quit()

print(json.dumps({"checks": checks, "failures": failures}))
sys.exit(1 if failures else 0)
