#!/usr/bin/env bash
# Render `pyisp explain --format html` for a case and take a screenshot with headless
# Debian chromium (apt-get install -y chromium), to look at the page as a reviewer would.
#   scripts/explain_html_screenshot.sh [CASE] [SOURCE] [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
CASE=${1:-facts/teacher-counselling-disclosure.yaml}
SOURCE=${2:-../../shared/guidance/london-cpp-chapter-3-information-sharing.txt}
OUT=${3:-/tmp/pyisp-explain.png}
HTML=${OUT%.png}.html
args=(explain "$CASE" --format html)
[ -f "$SOURCE" ] && args+=(--source "$SOURCE")
.venv/bin/pyisp "${args[@]}" > "$HTML"
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
  --window-size=1200,${HEIGHT:-1800} --screenshot="$OUT" "file://$(realpath "$HTML")" 2>/dev/null
echo "$HTML -> $OUT"
