// The dev inspector: sessions, backend events, UI frames and timeline
// entities side by side, live; a form per registered command.
// Plain browser JavaScript, served by `sessionstream dev`, no build step.
const $ = (id) => document.getElementById(id);
const api = "/__sessionstream/api";
let selected = null;
let socket = null;
let schema = null;
// The app load (status.loadCount) the commands were rendered for.
let schemaLoadCount = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const json = (v) => JSON.stringify(v);

async function getJson(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

function showStatus(status) {
  const s = $("app-status");
  s.textContent = status.state === "ready" ? `app loaded (${status.loadCount}×)` : status.state === "error" ? "load error" : status.state;
  s.className = status.state === "ready" ? "ok" : status.state === "error" ? "error" : "";
  const err = $("load-error");
  err.hidden = !status.error;
  err.textContent = status.error ? `Load error (dev keeps running; fix the code and save):\n${status.error}` : "";
}

async function refreshSessions() {
  const { sessions } = await getJson(`${api}/sessions`);
  const list = $("sessions");
  list.replaceChildren(
    ...sessions.map((s) =>
      el("li", { class: s.sessionId === selected ? "selected" : "", "data-session": s.sessionId, onclick: () => select(s.sessionId) }, `${s.sessionId} (${s.cursor})`),
    ),
  );
}

// Re-rendered on every app reload: a body the user edited is kept (by
// command name), so typing is never lost to a reload or a late status.
function renderCommands() {
  const box = $("commands");
  const edited = new Map();
  for (const old of box.querySelectorAll("textarea[data-command]")) {
    if (old.value !== old.dataset.template) edited.set(old.dataset.command, old.value);
  }
  box.replaceChildren(
    ...schema.commands.map((c) => {
      const template = JSON.stringify(c.template, null, 2);
      const body = el("textarea", { "data-testid": `command-body-${c.name}`, "data-command": c.name, "data-template": template });
      body.value = edited.get(c.name) ?? template;
      const send = el("button", { "data-testid": `command-send-${c.name}`, onclick: () => sendCommand(c.name, body.value) }, `send ${c.name}`);
      return el("div", { class: "command" }, el("div", { class: "name" }, c.name, " ", el("small", {}, c.typeName)), body, send);
    }),
  );
}

async function sendCommand(name, text) {
  const out = $("command-result");
  if (!selected) {
    out.textContent = "open a session first";
    return;
  }
  out.textContent = `sending ${name}…`;
  const res = await fetch(`/api/sessions/${encodeURIComponent(selected)}/commands/${encodeURIComponent(name)}`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID() },
    body: text,
  });
  out.textContent = `${name}: HTTP ${res.status}\n${await res.text()}`;
  refreshSessions();
}

function addEvent(ev) {
  $("events").append(el("li", {}, el("span", { class: "ord" }, ev.ordinal), el("span", { class: "name" }, ev.name), " ", el("span", { class: "json" }, json(ev.payload))));
  $("cursor").textContent = `cursor ${ev.ordinal}`;
}

function addFrame(text) {
  const frame = JSON.parse(text);
  const kind = Object.keys(frame)[0];
  const body = frame[kind];
  const label = kind === "uiEvent" ? `${body.eventOrdinal} ${body.name}` : kind;
  $("frames").append(el("li", {}, el("span", { class: "name" }, label), " ", el("span", { class: "json" }, json(body))));
}

// One timeline request at a time; events arriving meanwhile ask for one more.
// A failed request (the app reloading) is retried, so the panel never stays stale.
let timelineBusy = false;
let timelineAgain = false;
async function refreshTimeline() {
  if (!selected) return;
  if (timelineBusy) {
    timelineAgain = true;
    return;
  }
  timelineBusy = true;
  try {
    do {
      timelineAgain = false;
      const session = selected;
      let snap;
      try {
        snap = await getJson(`${api}/sessions/${encodeURIComponent(session)}/timeline`);
      } catch {
        await new Promise((r) => setTimeout(r, 300));
        timelineAgain = true;
        continue;
      }
      if (session !== selected) continue;
      $("snapshot-ordinal").textContent = `snapshot ${snap.snapshotOrdinal}`;
      $("entities").replaceChildren(
        ...snap.entities.map((e) =>
          el("div", { class: "entity", "data-entity": `${e.kind}/${e.id}` }, el("div", { class: "name" }, `${e.kind} ${e.id}`), el("div", {}, `created ${e.createdOrdinal}, last ${e.lastEventOrdinal}`), el("div", { class: "json" }, json(e.payload))),
        ),
      );
    } while (timelineAgain);
  } finally {
    timelineBusy = false;
  }
}

// The runs of the selected session: refreshed on its events and every 2 s (ages, heartbeats).
function age(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${s % 60}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

// One request at a time; a refresh asked for meanwhile runs after it.
let runsBusy = false;
let runsAgain = false;
async function refreshRuns() {
  if (!selected) return;
  if (runsBusy) {
    runsAgain = true;
    return;
  }
  runsBusy = true;
  try {
    do {
      runsAgain = false;
      await loadRuns();
    } while (runsAgain);
  } finally {
    runsBusy = false;
  }
}

async function loadRuns() {
  const session = selected;
  let body;
  try {
    body = await getJson(`${api}/sessions/${encodeURIComponent(session)}/runs`);
  } catch {
    return; // the app is reloading: the next event or tick refreshes
  }
  if (session !== selected) return;
  const last = body.lastEvent ? `${body.lastEvent.ordinal} ${body.lastEvent.name}` : "-";
  // Rows are updated in place (events arrive many times a second): a Stop button stays clickable.
  const rows = body.runs.map((r) => {
    const row = $("runs").querySelector(`tr[data-run="${CSS.escape(r.runId)}"]`) ?? runRow(r);
    row.dataset.state = r.state;
    row.title = r.error ? `${r.state}: ${r.error}` : JSON.stringify(r.data);
    const cells = row.children;
    setText(cells[1], `${r.state}${r.stopRequested && r.state === "running" ? " (stop requested)" : ""}`);
    setText(cells[2], r.local ? "this server" : r.owner);
    setText(cells[3], age(r.ageMs));
    // The session's last event is the run's latest output only while it runs.
    setText(cells[4], r.state === "running" ? last : r.endedAt ? `ended ${age(Date.now() - r.endedAt)} ago` : "-");
    if (r.state !== "running") cells[5].replaceChildren();
    return row;
  });
  if (rows.length !== $("runs").children.length || rows.some((row, i) => $("runs").children[i] !== row)) $("runs").replaceChildren(...rows);
}

function runRow(r) {
  return el(
    "tr",
    { "data-run": r.runId },
    el("td", {}, el("div", { class: "name" }, r.runId), el("small", {}, r.kind)),
    el("td", { class: "state" }),
    el("td", {}),
    el("td", {}),
    el("td", {}),
    el("td", {}, r.state === "running" ? el("button", { "data-testid": `stop-run-${r.runId}`, onclick: () => stopRun(r.runId) }, "Stop") : ""),
  );
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

async function stopRun(runId) {
  const out = $("run-result");
  out.textContent = `stopping ${runId}…`;
  const res = await fetch(`${api}/runs/${encodeURIComponent(runId)}/stop`, { method: "POST" });
  const body = await res.json();
  out.textContent = body.error
    ? `${runId}: ${body.error.message}`
    : body.stopped
      ? `${runId}: stopped`
      : body.requested
        ? `${runId}: stop requested (its process ends it at its next heartbeat)`
        : `${runId}: not running (${body.state})`;
  refreshRuns();
}
setInterval(refreshRuns, 2000);

function connectSocket() {
  if (socket) socket.close();
  if (!selected) return;
  const session = selected;
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ subscribe: { sessionId: session } }));
  ws.onmessage = (m) => addFrame(m.data);
  // The app reloads on code changes and closes sockets: reconnect and re-hydrate.
  ws.onclose = () => {
    if (socket === ws) setTimeout(() => socket === ws && connectSocket(), 500);
  };
}

async function select(sessionId) {
  selected = sessionId;
  history.replaceState(null, "", `#${encodeURIComponent(sessionId)}`);
  $("events").replaceChildren();
  $("frames").replaceChildren();
  $("runs").replaceChildren();
  $("run-result").textContent = "";
  const { events } = await getJson(`${api}/sessions/${encodeURIComponent(sessionId)}/events`);
  events.forEach(addEvent);
  await refreshTimeline();
  await refreshRuns();
  await refreshSessions();
  connectSocket();
}

// Drift found by dev's check: one row per problem (session, entity, field), newest values.
const driftRows = new Map();
function showDrift(p) {
  const key = [p.sessionId, p.kind, p.id, p.path, p.scenario === "replay" ? "replay" : "fold"].join("\u0000");
  const row = el(
    "tr",
    { "data-drift": `${p.sessionId}/${p.kind}/${p.id}/${p.path}`, title: p.message },
    el("td", {}, p.sessionId),
    el("td", {}, p.ordinal),
    el("td", {}, p.eventName),
    el("td", {}, p.kind ? `${p.kind} ${p.id}` : "-"),
    el("td", {}, p.path || "-"),
    el("td", { class: "json" }, p.live),
    el("td", { class: "json" }, p.snapshot),
    el("td", {}, p.scenario),
  );
  const old = driftRows.get(key);
  if (old) old.replaceWith(row);
  else $("drift").append(row);
  driftRows.set(key, row);
  $("drift-panel").hidden = false;
}

async function loadDrift() {
  try {
    const { problems } = await getJson(`${api}/drift`);
    problems.forEach(showDrift);
  } catch {
    // An older dev server without the drift check.
  }
}

function listen() {
  const stream = new EventSource(`${api}/stream`);
  stream.addEventListener("drift", (m) => showDrift(JSON.parse(m.data)));
  stream.addEventListener("status", (m) => {
    const status = JSON.parse(m.data);
    showStatus(status);
    // The stream opens with the current status: only a new load changes the schema.
    if (status.state === "ready" && status.loadCount !== schemaLoadCount) {
      schemaLoadCount = status.loadCount;
      loadSchema();
      refreshTimeline();
    }
  });
  stream.addEventListener("event", (m) => {
    const ev = JSON.parse(m.data);
    if (ev.sessionId === selected) {
      addEvent(ev);
      refreshTimeline();
      refreshRuns();
    }
    refreshSessions();
  });
}

async function loadSchema() {
  try {
    schema = await getJson("/api/schema");
    renderCommands();
  } catch (err) {
    $("command-result").textContent = String(err);
  }
}

$("open-session").addEventListener("submit", (e) => {
  e.preventDefault();
  select($("session-input").value.trim());
});

const firstStatus = await getJson(`${api}/status`);
showStatus(firstStatus);
schemaLoadCount = firstStatus.loadCount;
await loadSchema();
await refreshSessions();
await loadDrift();
listen();
if (location.hash.length > 1) select(decodeURIComponent(location.hash.slice(1)));
