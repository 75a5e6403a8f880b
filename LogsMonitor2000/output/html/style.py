"""The page's CSS and the live page's script: constants, never assembled per record."""

STYLE = """
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5d6677; --line: #d8dce3;
  --panel: #f6f7f9; --bg: #fff; --accent: #3b7dd8; --alert: rgba(214, 69, 65, .16); }
@media (prefers-color-scheme: dark) { :root { --fg: #e4e7ec; --muted: #9aa3b2;
  --line: #3a4150; --panel: #1e232c; --bg: #14181f; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--fg); background: var(--bg); }
main { max-width: 1180px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.35em; margin: 0 0 .2em; }
h2 { font-size: 1.05em; margin: 0 0 .5em; }
p, dl { margin: .2em 0; }
.muted, figcaption small, .unit { color: var(--muted); }
header { border-bottom: 1px solid var(--line); padding-bottom: .6em; margin-bottom: 1em; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 .8em; }
dt { color: var(--muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
  gap: 10px; margin: 0 0 1em; }
.card { background: var(--panel); border-radius: 8px; padding: 8px 12px; }
.card b { display: block; font-size: 1.35em; font-variant-numeric: tabular-nums; }
.card span { color: var(--muted); font-size: .9em; }
.card.alerting { background: var(--alert); }
.note { background: var(--panel); border-left: 4px solid #e09b2d; padding: 6px 10px;
  margin: 0 0 1em; }
.note.active { border-color: #d64541; }
figure { margin: 0 0 1.6em; }
figcaption { font-weight: 600; margin-bottom: .4em; }
.key { font-weight: normal; font-size: .9em; }
.key i { display: inline-block; width: .8em; height: .8em; border-radius: 2px;
  margin: 0 .25em 0 .7em; vertical-align: -.05em; }
.plot { position: relative; height: 200px; margin: 0 .6em 22px 3.6em;
  border-left: 1px solid var(--line); border-bottom: 1px solid var(--line); }
.plot svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: visible; }
.plot .y, .plot .x { position: absolute; font-size: 12px; color: var(--muted);
  white-space: nowrap; font-variant-numeric: tabular-nums; }
.plot .y { right: 100%; padding-right: 5px; transform: translateY(50%); }
.plot .x { top: 100%; padding-top: 3px; transform: translateX(-50%); }
.key i.dashed { width: 1.4em; height: 0; border-radius: 0; vertical-align: .25em;
  border-top: 2px dashed #d64541; }
.unit { font-size: 12px; margin: 0 .6em 0 3.6em; text-align: right; }
.grid path { stroke: var(--line); stroke-width: 1; fill: none; }
.slowest { grid-column: 1 / -1; }
.tables { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr));
  gap: 16px 24px; margin-bottom: 1.4em; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .9em; }
td.n, th.n { text-align: right; white-space: nowrap; }
td.k { overflow-wrap: anywhere; }
td.bar { width: 30%; }
.panels { grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); }
.panels td.bar { width: 16%; }
td.bar span { display: block; height: .8em; margin-top: .3em; background: var(--accent);
  border-radius: 2px; min-width: 1px; }
details { margin: 0 0 1em; }
summary { cursor: pointer; font-weight: 600; }
.scroll { max-height: 420px; overflow: auto; }
code { font-size: .92em; overflow-wrap: anywhere; }
footer { color: var(--muted); font-size: .85em; border-top: 1px solid var(--line);
  padding-top: .5em; }
@media (max-width: 560px) { body { font-size: 14px; } main { padding: 10px; }
  .plot { height: 160px; margin-left: 3.1em; }
  .cards { grid-template-columns: repeat(3, 1fr); gap: 6px; }
  .card { padding: 6px 8px; } .card b { font-size: 1.1em; } .card span { font-size: .8em; }
  .tables, .panels { grid-template-columns: 1fr; } .plot .x.alt { display: none; } }
"""

#: The live page's script: each record of ``/events`` shows at once in the latest
#: window's line; the rest of the page is fetched again (at most every 0.5 s) and
#: swapped in, once it includes that record.  A browser that missed more than the
#: server keeps, or whose page is of another run (the monitor restarted), is told to
#: reload.
SCRIPT = """
(() => {
  const main = () => document.querySelector("main");
  const state = document.getElementById("live");
  let wanted = 0, timer = null;
  function refresh() {
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      try {
        const answer = await fetch(location.pathname, {cache: "no-store"});
        const page = new DOMParser().parseFromString(await answer.text(), "text/html");
        const fresh = page.querySelector("main");
        if (Number(fresh.dataset.records) >= wanted) main().replaceWith(fresh);
        else refresh();
      } catch (error) { refresh(); }
    }, 500);
  }
  const events = new EventSource(
    "events?after=" + main().dataset.run + ":" + main().dataset.records);
  events.onopen = () => { state.textContent = "live"; };
  events.onerror = () => { state.textContent = "reconnecting..."; };
  events.addEventListener("reload", () => location.reload());
  for (const kind of ["stats", "alert", "recovery", "slow", "slow-recovery"]) {
    events.addEventListener(kind, (message) => {
      wanted = Math.max(wanted, Number(message.lastEventId.split(":").pop()));
      if (kind === "stats") {
        const record = JSON.parse(message.data);
        const latest = document.getElementById("latest");
        if (latest) latest.textContent = record.hits.toLocaleString("en-US");
      }
      refresh();
    });
  }
})();
"""
