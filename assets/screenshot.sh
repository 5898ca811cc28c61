#!/usr/bin/env bash
# Makes assets/dashboard.png from a real run: the demo in tmux (100x30), captured with its
# colours, turned into HTML and rendered by headless Chromium. Needs tmux and chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
session="tickertape-shot-$$"
tmux new-session -d -s "$session" -x 100 -y 30 "./target/debug/tickertape demo --interval 150ms"
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT
sleep 6
tmux capture-pane -e -p -t "$session" > /tmp/tickertape-shot.ansi
python3 - /tmp/tickertape-shot.ansi /tmp/tickertape-shot.html <<'PY'
import html, re, sys
palette = ["#1e1e1e", "#e06c75", "#98c379", "#e5c07b", "#61afef", "#c678dd", "#56b6c2", "#dcdfe4"]
bright = ["#5c6370", "#ff7b86", "#b5e890", "#ffd580", "#7ec4ff", "#de9cff", "#7fdbe6", "#ffffff"]
def color(n):
    if n < 8: return palette[n]
    if n < 16: return bright[n - 8]
    if n < 232:
        n -= 16; r, g, b = n // 36, (n // 6) % 6, n % 6
        return "#%02x%02x%02x" % tuple(0 if c == 0 else 55 + 40 * c for c in (r, g, b))
    v = 8 + 10 * (n - 232); return "#%02x%02x%02x" % (v, v, v)
out, st = [], {}
def span(text):
    if not text: return
    fg, bg = st.get("fg", "#dcdfe4"), st.get("bg")
    if st.get("rev"): fg, bg = (bg or "#1e1e1e"), fg
    css = f"color:{fg};" + (f"background:{bg};" if bg else "")
    css += "font-weight:bold;" if st.get("bold") else ""
    css += "opacity:0.6;" if st.get("dim") else ""
    css += "text-decoration:underline;" if st.get("ul") else ""
    out.append(f'<span style="{css}">{html.escape(text)}</span>')
for line in open(sys.argv[1], encoding="utf-8").read().split("\n"):
    pos = 0
    for m in re.finditer(r"\x1b\[([0-9;]*)m", line):
        span(line[pos:m.start()]); pos = m.end()
        codes = [int(c) if c else 0 for c in m.group(1).split(";")]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0: st = {}
            elif c == 1: st["bold"] = True
            elif c == 2: st["dim"] = True
            elif c == 4: st["ul"] = True
            elif c == 7: st["rev"] = True
            elif c in (22,): st.pop("bold", None); st.pop("dim", None)
            elif c == 27: st.pop("rev", None)
            elif 30 <= c <= 37: st["fg"] = palette[c - 30]
            elif 90 <= c <= 97: st["fg"] = bright[c - 90]
            elif 40 <= c <= 47: st["bg"] = palette[c - 40]
            elif c == 39: st.pop("fg", None)
            elif c == 49: st.pop("bg", None)
            elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                st["fg" if c == 38 else "bg"] = color(codes[i + 2]); i += 2
            i += 1
    span(line[pos:]); out.append("\n")
page = f"""<!DOCTYPE html><meta charset="utf-8"><body style="margin:0;background:#1e1e1e">
<pre style="margin:0;padding:12px;font:14px/1.25 'DejaVu Sans Mono',monospace;color:#dcdfe4">{''.join(out)}</pre>"""
open(sys.argv[2], "w", encoding="utf-8").write(page)
PY
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
  --hide-scrollbars --window-size=880,560 --screenshot="$PWD/assets/dashboard.png" \
  "file:///tmp/tickertape-shot.html" 2>/dev/null
echo "wrote assets/dashboard.png"
