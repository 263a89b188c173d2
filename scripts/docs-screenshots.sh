#!/usr/bin/env bash
# Regenerates docs/dashboard.png and docs/run.png (the README's screenshots of `rigor serve`):
# a small batch into a scratch store, the server on a free port, headless Chromium through the
# tools venv's selenium (`make deps tools-venv` first).
set -euo pipefail
cd "$(dirname "$0")/.."
RIGOR=${RIGOR:-.build/debug/rigor}
mkdir -p docs
state=$(mktemp -d /tmp/rigor-docs-XXXXXX)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$state"' EXIT
"$RIGOR" batch --pairings all --seeds 0..2 --state-dir "$state" --quiet >/dev/null || true
for seed in 0 1; do "$RIGOR" run --agent Agents/do_nothing.py --task filesystem_hidden_config@1 --seed $seed --state-dir "$state" >/dev/null || true; done
"$RIGOR" serve --port 0 --state-dir "$state" > "$state/serve.log" &
server=$!
for _ in $(seq 50); do grep -q http "$state/serve.log" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$state/serve.log" | head -1)
.build-venv-tools/bin/python - "$url" <<'PY'
import sys
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
url = sys.argv[1].rstrip("/")
o = webdriver.ChromeOptions()
o.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,860", "--hide-scrollbars"):
    o.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
try:
    d.get(url + "/runs")
    d.save_screenshot("docs/dashboard.png")
    d.get(url + "/runs?outcome=failure")
    d.find_element(By.CSS_SELECTOR, "a.run-link").click()
    d.save_screenshot("docs/run.png")
finally:
    d.quit()
PY
echo "wrote docs/dashboard.png docs/run.png"
