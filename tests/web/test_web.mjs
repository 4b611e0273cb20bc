// The live results page in a real browser: starts the real aggregator and
// publisher (HTTP gateway on a free loopback port); first opens the page on
// a wrong ?api and a server that never answers (an error banner within 5 s,
// no figures); declares part of the 2017 night, opens the page in headless
// Chromium and checks that what it shows equals GET /state; declares more
// (100 results: the hex map, gains, projection, parliament line, a
// screenshot) and the rest of the night (hung parliament; no card animated
// twice); opens each view at 390 px (no sideways scrolling) and 1920 px;
// then silences the aggregator and checks the STALE banner, on the open page
// and from the first frame of a new one. Readiness is always asked for
// (polling /state, the page's data-sequence), never slept on.
// WEB_DOCS=1 also writes docs/night-100.png and docs/night-end.png.
//
// Usage: node test_web.mjs BIN_DIR SOURCE_DIR WORK_DIR
//   (WORK_DIR/npm holds playwright-core; run.sh sets it up)
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const [binDir, sourceDir, workDir] = process.argv.slice(2);
if (!binDir || !sourceDir || !workDir) {
  console.error("usage: node test_web.mjs BIN_DIR SOURCE_DIR WORK_DIR");
  process.exit(2);
}
const require = createRequire(path.join(workDir, "npm", "package.json"));
const { chromium } = require("playwright-core");

const DATA = path.join(sourceDir, "data");
const ARTIFACTS = path.join(sourceDir, "tests", "artifacts");
const FIRST = 40;    // seats declared before the page opens
const SECOND = 60;   // seats declared while it is open (100 in all)
const DOCS = process.env.WEB_DOCS === "1";
// Assertions on fields another branch of issue 13 adds: named, so a failure says what it waits for
const WAITS = { view: " (waits for desk-view)", agg: " (waits for desk-agg: every seat from the start, seat context, projection)" };
const started = Date.now();
const children = [];
let failures = 0;
let checks = 0;

// How long each part takes (the suite's time is tight): one line each
let lap = Date.now();
function stage(name) {
  console.log("test_web: " + name + " in " + ((Date.now() - lap) / 1000).toFixed(1) + " s");
  lap = Date.now();
}

function check(ok, what) {
  checks++;
  if (!ok) {
    failures++;
    console.error("FAIL: " + what);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function start(name, args, logDir) {
  const log = fs.openSync(path.join(logDir, name + ".log"), "w");
  const child = spawn(path.join(binDir, name), args, { stdio: ["ignore", log, log] });
  child.name = name;
  children.push(child);
  return child;
}

// Polls probe() until it returns something truthy, or fails after ms
async function until(what, probe, ms = 20000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("timed out waiting for " + what + (last ? " (last: " + last + ")" : ""));
}

// The seats of the 2017 night in the order they declared
function nightOrder() {
  const lines = fs.readFileSync(path.join(DATA, "declaration_times_2017.csv"), "utf8").trim().split("\n");
  return lines.slice(1).map((line) => line.split(",")).sort((a, b) => a[1].localeCompare(b[1]))
    .map((fields) => fields[0]);
}

// A results CSV (same header as ge2017.csv) with only these seats
function subset(file, seats) {
  const lines = fs.readFileSync(path.join(DATA, "ge2017.csv"), "utf8").split("\n");
  const wanted = new Set(seats);
  const kept = lines.slice(1).filter((line) => wanted.has(line.slice(0, line.indexOf(","))));
  fs.writeFileSync(file, [lines[0], ...kept].join("\n") + "\n");
}

function ingest(csv, ingestEndpoint) {
  const run = spawnSync(path.join(binDir, "ingest"), ["send", csv, "--to", ingestEndpoint, "--quiet"],
                        { encoding: "utf8", timeout: 60000 });
  if (run.status !== 0)
    throw new Error("ingest send failed (" + run.status + "): " + run.stderr + run.stdout);
}

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(url + ": HTTP " + response.status);
  return response.json();
}

// The first event of GET /events (with a Last-Event-ID, if given)
async function firstEvent(base, lastId) {
  const abort = new AbortController();
  const response = await fetch(base + "/events", {
    signal: abort.signal, headers: lastId === undefined ? {} : { "Last-Event-ID": String(lastId) }
  });
  const reader = response.body.getReader();
  let text = "";
  while (!text.includes("\n\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  abort.abort();
  const fields = {};
  for (const line of text.slice(0, text.indexOf("\n\n")).split("\n"))
    fields[line.slice(0, line.indexOf(":"))] = line.slice(line.indexOf(":") + 1).trim();
  return fields;
}

// What the page shows, read from its data- attributes
function readPage(page) {
  return page.evaluate(() => {
    const rows = Array.from(document.querySelectorAll("#national-body tr")).map((row) => ({
      party: row.dataset.party, seats: Number(row.dataset.seats), change: Number(row.dataset.change),
      share: Number(row.dataset.share), text: row.querySelector(".seats").textContent
    }));
    const cards = Array.from(document.querySelectorAll("#latest .card")).map((card) => ({
      id: card.dataset.seat, winner: card.dataset.winner, outcome: card.dataset.outcome,
      headline: card.querySelector(".headline").textContent,
      majority: Number(card.querySelector("[data-majority]")?.dataset.majority)
    }));
    const badge = document.getElementById("mode-badge");
    return {
      sequence: Number(document.body.dataset.sequence),
      declared: Number(document.getElementById("declared").dataset.declared),
      declaredText: document.getElementById("declared").textContent,
      seatsTotal: Number(document.getElementById("seats-total").dataset.seatsTotal),
      majorityLine: Number(document.getElementById("seat-bar").dataset.majorityLine),
      progress: document.getElementById("progress").textContent.replace(/\s+/g, " ").trim(),
      badge: badge.hidden ? null : badge.textContent,
      stale: !document.getElementById("stale").hidden,
      rows, cards
    };
  });
}

const PARTY_NAMES = { Con: "CON", Lab: "LAB", LD: "LIB DEM", SNP: "SNP" };

function compare(shown, state, label) {
  check(shown.sequence === state.sequence, label + ": page at sequence " + shown.sequence + ", state at " + state.sequence);
  check(shown.declared === state.declared, label + ": page says " + shown.declared + " declared, state " + state.declared);
  check(shown.declaredText === String(state.declared), label + ": declared text " + shown.declaredText);
  check(shown.progress === "After " + state.declared + " of " + state.seats_total + " seats",
        label + ": progress line \"" + shown.progress + "\"");
  check(shown.seatsTotal === state.seats_total, label + ": seats total " + shown.seatsTotal);
  check(shown.majorityLine === state.majority_line && state.majority_line === 326,
        label + ": majority line " + shown.majorityLine + " vs " + state.majority_line);
  check(shown.badge === state.mode.toUpperCase() && state.mode !== "live", label + ": mode badge " + shown.badge);
  check(!shown.stale, label + ": STALE banner shown while the feed is live");

  // Every named row equals its party's line; Others is the sum of the rest
  const byParty = new Map(state.parties.map((p) => [p.party, p]));
  const named = shown.rows.filter((row) => row.party !== "Others");
  check(named.length > 0, label + ": no party rows");
  for (const row of named) {
    const line = byParty.get(row.party);
    check(line && line.seats === row.seats && line.change === row.change
          && Math.abs(line.share - row.share) < 1e-6 && row.text === String(line.seats),
          label + ": row " + row.party + " " + JSON.stringify(row) + " vs " + JSON.stringify(line));
  }
  const others = shown.rows.find((row) => row.party === "Others");
  const rest = state.parties.filter((p) => !named.some((row) => row.party === p.party));
  const restSeats = rest.reduce((sum, p) => sum + p.seats, 0);
  check(rest.length === 0 ? !others : others && others.seats === restSeats,
        label + ": Others " + (others && others.seats) + " vs " + restSeats);
  check(shown.rows.reduce((sum, row) => sum + row.seats, 0) === state.declared,
        label + ": table seats do not add up to the declared seats");

  // The cards are the latest declarations, with their figures
  const seats = new Map(state.constituencies.map((seat) => [seat.id, seat]));
  const latest = Math.max(...state.constituencies.map((seat) => seat.declared_at_ms || 0));
  check(shown.cards.length === Math.min(3, state.constituencies.length), label + ": " + shown.cards.length + " cards");
  check(shown.cards.length && seats.get(shown.cards[0].id)?.declared_at_ms === latest,
        label + ": first card " + (shown.cards[0] && shown.cards[0].id) + " is not the latest declaration");
  for (const card of shown.cards) {
    const seat = seats.get(card.id);
    const winner = PARTY_NAMES[seat?.winner] || String(seat?.winner).toUpperCase();
    const expected = seat?.outcome === "gain"
      ? winner + " GAIN FROM " + (PARTY_NAMES[seat.previous_winner] || seat.previous_winner.toUpperCase())
      : winner + " HOLD";
    check(seat && card.winner === seat.winner && card.majority === seat.majority && card.headline === expected,
          label + ": card " + JSON.stringify(card) + " vs seat " + (seat && seat.winner + " " + seat.majority));
  }
}

// "#0087dc" as the browser gives a style's colour back
function rgb(hex) {
  const n = parseInt(String(hex || "").slice(1), 16);
  return "rgb(" + (n >> 16) + ", " + ((n >> 8) & 255) + ", " + (n & 255) + ")";
}

// The desk's panels as the page shows them (data- attributes)
function readDesk(page) {
  return page.evaluate(() => {
    const hexes = Array.from(document.querySelectorAll("#hexmap .hex")).map((node) => ({
      id: node.dataset.seat, state: node.dataset.state, winner: node.dataset.winner || "", fill: node.style.fill
    }));
    const parliament = document.getElementById("parliament");
    const projection = document.getElementById("projection-panel");
    const gains = Array.from(document.querySelectorAll("#gains li[data-seat]"))
      .sort((a, b) => Number(a.dataset.order) - Number(b.dataset.order)).map((li) => li.dataset.seat);
    const fullNames = Array.from(document.querySelectorAll("#national-body tr")).map((row) => ({
      party: row.dataset.party, full: row.querySelector(".party .sr-only")?.textContent
    }));
    const live = document.getElementById("live-result");
    return {
      hexes,
      mapShown: !document.getElementById("map-panel").hidden,
      parliament: parliament.hidden ? null : document.getElementById("parliament-text").textContent,
      parliamentSource: parliament.dataset.source,
      projection: projection.hidden ? null : {
        label: document.getElementById("projection-label").textContent, basis: projection.dataset.basis,
        basedOn: document.getElementById("projection-basis").dataset.basedOn,
        basedText: document.getElementById("projection-basis").textContent,
        verdict: document.getElementById("projection-verdict").textContent,
        rows: Array.from(document.querySelectorAll("#projection-body tr")).map((row) => ({
          party: row.dataset.party, seats: Number(row.dataset.seats), low: Number(row.dataset.low),
          high: Number(row.dataset.high) }))
      },
      gains, gainsShown: !document.getElementById("gains-panel").hidden,
      gainsSource: document.getElementById("gains-panel").dataset.source,
      fullNames,
      live: { text: live.textContent, seat: live.dataset.seat, polite: live.getAttribute("aria-live") },
      overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth
    };
  });
}

// The map, the gains, the projection and the parliament line against the JSON
async function compareDesk(shown, state, base, label, seats2017) {
  // 650 hexes, one per seat, coloured as /state says: the winner's colour for
  // a declared seat, the projected winner's (faded) for one not declared, else grey
  const ids = shown.hexes.map((h) => h.id);
  check(shown.mapShown && ids.length === 650 && new Set(ids).size === 650 && ids.every((id) => seats2017.has(id)),
        label + ": " + ids.length + " hexes (" + new Set(ids).size + " seats), not the 650 of 2017");
  const seatsAnswer = await fetch(base + "/seats");
  const everySeat = seatsAnswer.ok ? await seatsAnswer.json() : null;
  check(everySeat && everySeat.seats.length === 650, label + ": GET /seats " + seatsAnswer.status + " with "
        + (everySeat ? everySeat.seats.length : 0) + " seats, not all 650" + WAITS.agg);
  const all = new Map(((everySeat && everySeat.seats) || []).map((seat) => [seat.id, seat]));
  const declared = new Map(state.constituencies.map((seat) => [seat.id, seat]));
  const wrong = [];
  for (const hex of shown.hexes) {
    const seat = declared.get(hex.id);
    const other = all.get(hex.id);
    const want = seat ? { state: "declared", winner: seat.winner, fill: rgb(seat.winner_colour) }
      : other && other.projected_winner ? { state: "projected", winner: other.projected_winner,
                                            fill: rgb(other.projected_winner_colour) }
      : { state: "none", winner: "" };
    if (hex.state !== want.state || hex.winner !== want.winner || (want.fill && hex.fill !== want.fill))
      wrong.push(hex.id + " " + JSON.stringify(hex) + " wants " + JSON.stringify(want));
  }
  check(!wrong.length, label + ": " + wrong.length + " hexes not as /state says: " + wrong.slice(0, 3).join("; "));
  check(shown.hexes.filter((h) => h.state === "declared").length === state.declared,
        label + ": declared hexes differ from " + state.declared);
  if (everySeat)
    check(shown.hexes.filter((h) => h.state === "projected").length
          === everySeat.seats.filter((seat) => !seat.declared && seat.projected_winner).length,
          label + ": projected hexes differ from /seats");

  // Gains: the JSON's list, in its order
  check(Array.isArray(state.gains), label + ": state.gains missing" + WAITS.view);
  const expected = (state.gains || []).map((g) => g.id);
  check(shown.gainsShown && (!state.gains || JSON.stringify(shown.gains) === JSON.stringify(expected)),
        label + ": gains on the page " + JSON.stringify(shown.gains) + " vs the JSON's " + JSON.stringify(expected));
  const gainsAnswer = await fetch(base + "/gains");
  const gains = gainsAnswer.ok ? await gainsAnswer.json() : null;
  check(gains && JSON.stringify(gains.gains.map((g) => g.id)) === JSON.stringify(shown.gains),
        label + ": GET /gains " + gainsAnswer.status + " differs from the page" + WAITS.view);
  // the page's own reckoning agrees even without the server's list
  const derived = state.constituencies.filter((seat) => seat.outcome === "gain").map((seat) => seat.id).sort();
  check(JSON.stringify(shown.gains.slice().sort()) === JSON.stringify(derived), label + ": gains are not the seats that changed hands");

  // The parliament line is the JSON's
  check(state.parliament && typeof state.parliament.text === "string", label + ": state.parliament missing" + WAITS.view);
  check(shown.parliament && (!state.parliament || shown.parliament === state.parliament.text),
        label + ": parliament line \"" + shown.parliament + "\" vs the JSON's \"" + (state.parliament && state.parliament.text) + "\"");

  // The projection: labelled by its basis, "based on N results", seats and ranges as the JSON has them
  const projection = state.projection;
  check(projection && projection.parties, label + ": state.projection missing" + WAITS.agg);
  if (projection && projection.parties) {
    const want = projection.basis === "exit poll" ? "Exit poll" : projection.basis === "baseline" ? "Projection (last election)" : "Projection";
    check(shown.projection && shown.projection.label === want && shown.projection.verdict === projection.verdict,
          label + ": projection panel " + JSON.stringify(shown.projection && shown.projection.label) + " vs basis " + projection.basis);
    check(!shown.projection || projection.basis !== "results" || (Number(shown.projection.basedOn) === projection.based_on
          && shown.projection.basedText === "Based on " + projection.based_on.toLocaleString("en-GB") + " results"),
          label + ": projection based on " + (shown.projection && shown.projection.basedOn) + " vs " + projection.based_on);
    const rows = (shown.projection && shown.projection.rows) || [];
    check(rows.length && rows.every((row, i) => {
      const p = projection.parties[i];
      return p && row.party === p.party && row.seats === p.seats && row.low === p.low && row.high === p.high;
    }), label + ": projection rows " + JSON.stringify(rows.slice(0, 3)) + " vs " + JSON.stringify(projection.parties.slice(0, 3)));
  }

  // Screen readers hear full party names; the latest result is read out
  const names = new Map(state.parties.map((p) => [p.party, p.name]));
  check(shown.fullNames.every((row) => row.party === "Others" || row.full === names.get(row.party)),
        label + ": full party names " + JSON.stringify(shown.fullNames.slice(0, 3)));
  // (seats declared in the same millisecond are equally the latest)
  const latest = Math.max(...state.constituencies.map((seat) => seat.declared_at_ms || 0));
  const spoken = state.constituencies.find((seat) => seat.id === shown.live.seat);
  check(shown.live.polite === "polite" && spoken && (spoken.declared_at_ms || 0) === latest
        && shown.live.text.includes(spoken.name),
        label + ": aria-live latest result \"" + shown.live.text + "\" is not a latest declaration");
}

// The state once its projection rests on every declared seat (the
// aggregator may send it a moment after the batch: its cost rule); a state
// without one (a server before issue 13) as it is
const projected = (state) => !state.projection || state.projection.basis !== "results"
  || state.projection.based_on === state.declared;
// ... and the page showing that projection
async function samePrediction(page, state) {
  if (!state.projection || state.projection.basis !== "results") return;
  await page.waitForFunction((n) => document.getElementById("projection-basis").dataset.basedOn === String(n),
                             state.projection.based_on, { timeout: 10000 }).catch(() => {});
}

// Pages that record, from their first moment, what a test cannot see
// afterwards: the connection line's first words, each card's animations,
// and whether the STALE banner was up in the first frame that showed figures
const RECORDER = () => {
  window.__record = { firstConnection: null, animations: {}, firstFrame: null };
  // the connection line as the parser puts it in, before any task of the page's changes it
  const parsed = new MutationObserver(() => {
    const line = document.getElementById("connection");
    if (line && line.firstChild) {
      window.__record.firstConnection = line.textContent;
      parsed.disconnect();
    }
  });
  parsed.observe(document, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", () => {
    new MutationObserver(() => {
      if (!window.__record.firstFrame && document.body.dataset.ready === "true")
        window.__record.firstFrame = { stale: document.body.dataset.stale === "true",
                                       bannerShown: !document.getElementById("stale").hidden };
    }).observe(document.body, { attributes: true, attributeFilter: ["data-ready"] });
  });
  document.addEventListener("animationstart", (event) => {
    const key = event.target.dataset && event.target.dataset.key;
    if (key && event.animationName === "arrive")
      window.__record.animations[key] = (window.__record.animations[key] || 0) + 1;
  });
};

// Not connected: the page says "Connecting…", then an error within 5 s,
// and never shows figures ("After 0 of 650", "0 for a majority")
async function notConnected(context, base, wrongApi, what) {
  const page = await context.newPage();
  try {
    await page.addInitScript(RECORDER);
    const opened = Date.now();
    await page.goto(base + "/?api=" + encodeURIComponent(wrongApi), { waitUntil: "load" });
    await page.waitForFunction(() => document.getElementById("connection").dataset.error === "true", null,
                               { timeout: 8000 }).catch(() => {});
    const elapsed = Date.now() - opened;
    const shown = await page.evaluate(() => ({
      first: window.__record.firstConnection,
      line: document.getElementById("connection").textContent,
      error: document.getElementById("connection").dataset.error,
      role: document.getElementById("connection").getAttribute("role"),
      ready: document.body.dataset.ready,
      text: document.body.innerText
    }));
    check(/^Connecting/.test(shown.first || ""), what + ": first said \"" + shown.first + "\", not Connecting");
    check(shown.error === "true" && elapsed <= 5000 && shown.role === "alert",
          what + ": error banner after " + elapsed + " ms: \"" + shown.line + "\"");
    check(shown.ready === "false" && !/After \d+ of|for a majority|Waiting for the first/.test(shown.text),
          what + ": figures shown while not connected: " + JSON.stringify(shown.text.slice(0, 200)));
    console.log("test_web: " + what + ": \"" + shown.line + "\" after " + elapsed + " ms");
  } finally {
    await page.close();
  }
}

// A view of the page at a width, once it shows the state at sequence
async function view(context, base, query, width, sequence) {
  const page = await context.newPage();
  await page.setViewportSize({ width, height: width < 600 ? 844 : 1080 });
  await page.goto(base + "/" + query, { waitUntil: "load" });
  await page.waitForFunction((s) => document.body.dataset.ready === "true"
    && Number(document.body.dataset.sequence) >= s && document.querySelectorAll("#hexmap .hex").length > 0
    && (document.body.dataset.view !== "seat" || document.getElementById("seat-view").dataset.status !== ""),
    sequence, { timeout: 20000 });
  return page;
}
// README's pictures (WEB_DOCS=1): the page at 1440 x 810, a size that stays small as a PNG
async function docsShot(context, base, sequence, name) {
  const page = await view(context, base, "", 1440, sequence);
  await page.setViewportSize({ width: 1440, height: 810 });
  await page.waitForFunction(() => !document.querySelector(".card.arriving"), null, { timeout: 5000 }).catch(() => {});
  await page.screenshot({ path: path.join(sourceDir, "docs", name) });
  await page.close();
}
const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

// Errors in a page, but for the 404s the page asks for on purpose: /seats
// from a server without it (the map then shows declared seats only) and
// /seat/<id> of a seat that is not (yet) there
function watchErrors(page, errors) {
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    const url = message.location() && message.location().url || "";
    if (message.type() === "error" && !(/status of 404/.test(message.text()) && /\/seats?(\/[A-Z0-9]+)?$/.test(url)))
      errors.push(message.text() + (url ? " (" + url + ")" : ""));
  });
}

// Headless Chromium with a fresh profile (the caller closes the context and removes the profile)
async function browser() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "test-web-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1920, height: 1080 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"]
  });
  return { context, profile };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "test-web-"));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const [ingestPort, updatesPort, snapshotPort, pubUpdatesPort, pubSnapshotPort, httpPort] =
    await Promise.all([1, 2, 3, 4, 5, 6].map(freePort));
  const endpoint = (port) => "tcp://127.0.0.1:" + port;
  const base = "http://127.0.0.1:" + httpPort;

  const order = nightOrder();
  subset(path.join(tmp, "first.csv"), order.slice(0, FIRST));
  subset(path.join(tmp, "second.csv"), order.slice(FIRST, FIRST + SECOND));

  const aggregator = start("aggregator", [
    "--baseline", path.join(DATA, "ge2015.csv"), "--speaker-as", "Con", "--baseline-speaker-as", "Con",
    "--ingest", endpoint(ingestPort), "--updates", endpoint(updatesPort), "--snapshot", endpoint(snapshotPort),
    "--heartbeat-ms", "200"], tmp);
  const publisher = start("publisher", [
    "--upstream-updates", endpoint(updatesPort), "--upstream-snapshot", endpoint(snapshotPort),
    "--updates", endpoint(pubUpdatesPort), "--snapshot", endpoint(pubSnapshotPort),
    "--http", String(httpPort), "--http-address", "127.0.0.1",
    "--web-root", path.join(sourceDir, "web"), "--heartbeat-ms", "200", "--silence-ms", "1000"], tmp);
  for (const child of children)
    child.on("exit", (code, signal) => { child.exited = true; child.status = code ?? signal; });

  let state = await until("GET /state", async () => {
    for (const child of children)
      if (child.exited) throw new Error(child.name + " exited (" + child.status + "), see " + tmp);
    return getJson(base + "/state");
  });
  check(state.declared === 0 && state.seats_total === 650, "fresh state " + state.declared + "/" + state.seats_total);

  const { context, profile } = await browser();
  const silent = net.createServer(() => {});     // accepts, never answers
  const held = [];
  silent.on("connection", (socket) => held.push(socket));
  await new Promise((resolve) => silent.listen(0, "127.0.0.1", resolve));
  try {
    // Not connected: a wrong ?api (nothing listens there), a server that
    // never answers; meanwhile, the first results
    const offline = Promise.all([
      notConnected(context, base, "http://127.0.0.1:" + await freePort(), "a wrong ?api"),
      notConnected(context, base, "http://127.0.0.1:" + silent.address().port, "a server that never answers")]);
    ingest(path.join(tmp, "first.csv"), endpoint(ingestPort));
    state = await until(FIRST + " seats in /state", async () => {
      const s = await getJson(base + "/state");
      return s.declared === FIRST && s;
    });

    // The API beside the page: one seat, an unknown seat, CORS
    const some = state.constituencies[0];
    const one = await fetch(base + "/seat/" + some.id);
    check(one.status === 200 && one.headers.get("access-control-allow-origin") === "*", "GET /seat status and CORS");
    check(JSON.stringify(await one.json()) === JSON.stringify(some), "GET /seat/" + some.id + " differs from /state");
    check((await fetch(base + "/seat/E99999999")).status === 404, "GET /seat of an unknown seat is not 404");
    check((await fetch(base + "/../etc/passwd")).status === 404, "a path out of the web root is served");
    await offline;
    stage("not connected (two pages), 40 results");

    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    const foreign = [];
    watchErrors(page, errors);
    page.on("request", (request) => { if (!request.url().startsWith(base + "/")) foreign.push(request.url()); });
    await page.addInitScript(RECORDER);
    const seats2017 = new Set(order);

    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForFunction((sequence) => document.body.dataset.ready === "true"
      && Number(document.body.dataset.sequence) >= sequence, state.sequence, { timeout: 20000 });
    compare(await readPage(page), await getJson(base + "/state"), "after " + FIRST + " seats");
    stage("the page at 40 results");
    // An editor's exit poll: shown, labelled as such, until the results take over
    const pollFile = path.join(tmp, "exit-poll.csv");
    fs.writeFileSync(pollFile, "party,seats\nCon,314\nLab,266\nSNP,34\nLD,14\nPC,3\nGreen,1\n");
    const sent = spawnSync(path.join(binDir, "ingest"), ["exit-poll", pollFile, "--to", endpoint(ingestPort)],
                           { encoding: "utf8", timeout: 20000 });
    check(sent.status === 0, "ingest exit-poll: " + sent.status + " " + String(sent.stderr).trim().slice(0, 120) + WAITS.agg);
    if (sent.status === 0) {
      await page.waitForFunction(() => document.getElementById("projection-panel").dataset.basis === "exit poll",
                                 null, { timeout: 10000 }).catch(() => {});
      const poll = (await readDesk(page)).projection;
      check(poll && poll.label === "Exit poll" && poll.rows.length
            && poll.rows.slice(0, 2).map((r) => r.party + " " + r.seats).join(", ") === "Con 314, Lab 266",
            "the exit poll on the page: " + JSON.stringify(poll));
    }
    const map = await fetch(base + "/constituencies-2010.hexjson");
    check(map.ok && /^application\/json/.test(map.headers.get("content-type")),
          "the hex map is served as " + map.headers.get("content-type"));

    // More results while the page is open: it follows the stream
    ingest(path.join(tmp, "second.csv"), endpoint(ingestPort));
    state = await until((FIRST + SECOND) + " seats in /state", async () => {
      const s = await getJson(base + "/state");
      return s.declared === FIRST + SECOND && projected(s) && s;
    });
    await page.waitForFunction((sequence) => Number(document.body.dataset.sequence) >= sequence,
                               state.sequence, { timeout: 20000 });
    await samePrediction(page, state);
    state = await getJson(base + "/state");
    compare(await readPage(page), state, "after " + (FIRST + SECOND) + " seats");
    check(state.projection && ["exit poll", "results"].includes(state.projection.basis),
          "after 100 seats: the projection " + JSON.stringify(state.projection && state.projection.basis) + WAITS.agg);
    await compareDesk(await readDesk(page), state, base, "after " + (FIRST + SECOND) + " seats", seats2017);
    await page.screenshot({ path: path.join(ARTIFACTS, "web-100.png") });
    if (DOCS) await docsShot(context, base, state.sequence, "night-100.png");
    stage("100 results");

    // A seat not declared yet is one (not an unknown seat), with its projected winner where there is one
    const waiting = order.slice(FIRST + SECOND).find((id) => id.startsWith("E"));
    const undeclared = await view(context, base, "?seat=" + waiting, 1920, state.sequence);
    const card = await undeclared.evaluate(() => ({
      status: document.getElementById("seat-view").dataset.status,
      projected: document.querySelector("#seat-view [data-projected]")?.dataset.projected || null }));
    const seatNow = await fetch(base + "/seat/" + waiting);
    const seatJson = seatNow.ok ? await seatNow.json() : null;
    check(card.status === "undeclared", "?seat=" + waiting + " before its result: " + card.status);
    check(seatNow.status === 200 && seatJson.declared === false, "GET /seat/" + waiting + " of a seat not declared: " + seatNow.status + WAITS.agg);
    check(!seatJson || card.projected === (seatJson.projected_winner || null),
          "?seat=" + waiting + " projected " + card.projected + " vs " + (seatJson && seatJson.projected_winner));
    await undeclared.close();
    stage("a seat not declared");

    // The rest of the night, at full speed
    subset(path.join(tmp, "rest.csv"), order.slice(FIRST + SECOND));
    ingest(path.join(tmp, "rest.csv"), endpoint(ingestPort));
    state = await until("650 seats in /state", async () => {
      const s = await getJson(base + "/state");
      return s.declared === 650 && projected(s) && s;
    }, 60000);
    await page.waitForFunction((sequence) => Number(document.body.dataset.sequence) >= sequence,
                               state.sequence, { timeout: 30000 });
    await samePrediction(page, state);
    state = await getJson(base + "/state");
    compare(await readPage(page), state, "at the end");
    const end = await readDesk(page);
    await compareDesk(end, state, base, "at the end", seats2017);
    check(end.parliament === "HUNG PARLIAMENT \u2014 Con 8 short of 326",
          "at the end: parliament line \"" + end.parliament + "\"");
    check(end.overflow <= 0, "1920 px: " + end.overflow + " px of sideways scrolling");
    const animations = await page.evaluate(() => window.__record.animations);
    const twice = Object.entries(animations).filter(([, n]) => n > 1);
    check(Object.keys(animations).length > 0 && twice.length === 0,
          "cards animated more than once: " + JSON.stringify(twice.slice(0, 5)) + " of " + Object.keys(animations).length);
    await page.screenshot({ path: path.join(ARTIFACTS, "web-end.png") });
    if (DOCS) await docsShot(context, base, state.sequence, "night-end.png");
    stage("the rest of the night");

    await views(context, base, state);
    stage("the views at 390 and 1920 px");

    // A browser coming back resumes from the ring; one from nowhere starts with the state
    const fresh = await firstEvent(base);
    check(fresh.event === "state" && Number(fresh.id) === state.sequence,
          "GET /events starts with " + fresh.event + " id " + fresh.id);
    const resumed = await firstEvent(base, state.sequence - 1);
    check(resumed.event === "seat" && Number(resumed.id) === state.sequence - 1,
          "GET /events with Last-Event-ID " + (state.sequence - 1) + " starts with " + resumed.event + " id " + resumed.id);
    const unknown = await firstEvent(base, 999999);
    check(unknown.event === "state", "GET /events with a Last-Event-ID from the future starts with " + unknown.event);

    // The aggregator falls silent: the page must say its figures are stale
    aggregator.kill("SIGTERM");
    await page.waitForFunction(() => !document.getElementById("stale").hidden, null, { timeout: 20000 });
    check((await readPage(page)).stale, "STALE banner after the aggregator stopped");
    await page.screenshot({ path: path.join(ARTIFACTS, "web-stale.png") });
    // ... and a page opened now says so from its first frame
    await until("/state to say upstream_ok false", async () => (await getJson(base + "/state")).upstream_ok === false, 5000)
      .catch(() => check(false, "/state never says upstream_ok false" + WAITS.view));
    const late = await context.newPage();
    await late.addInitScript(RECORDER);
    await late.goto(base + "/", { waitUntil: "load" });
    await late.waitForFunction(() => window.__record.firstFrame, null, { timeout: 20000 });
    const first = await late.evaluate(() => window.__record.firstFrame);
    check(first.stale && first.bannerShown, "a page opened on a stale feed: first frame " + JSON.stringify(first) + WAITS.view);
    await late.close();
    stage("STALE");

    check(errors.length === 0, "errors in the page: " + errors.join("; "));
    check(foreign.length === 0, "the page fetched from elsewhere: " + foreign.join(", "));

    // The publisher stops cleanly with a browser still on its event stream
    publisher.kill("SIGTERM");
    await until("the publisher to exit", () => publisher.exited, 10000);
    check(publisher.status === 0, "publisher exit status " + publisher.status + " on SIGTERM");
  } finally {
    for (const socket of held) socket.destroy();
    silent.close();
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

// The views at the night's end: each at 390 px (a phone: no sideways
// scrolling) and what it must show; the layouts at 1920 px. Each view is a
// page of its own; three at a time, to keep the test short.
async function views(context, base, state) {
  const at = state.sequence;
  const phone = 390;
  const seatId = "E14000800";     // Luton North
  const seat = await getJson(base + "/seat/" + seatId);
  const east = state.regions.find((r) => r.scope === "East");
  const tasks = [];
  const task = (query, width, body) => tasks.push(async () => {
    const page = await view(context, base, query, width, at);
    try {
      await body(page);
    } finally {
      await page.close();
    }
  });

  task("", phone, async (page) => {
    check(await overflow(page) <= 0, "390 px: the night scrolls sideways by " + await overflow(page) + " px");
    const shown = await readDesk(page);
    check(shown.hexes.length === 650 && shown.parliament === "HUNG PARLIAMENT \u2014 Con 8 short of 326",
          "390 px: " + shown.hexes.length + " hexes, \"" + shown.parliament + "\"");
    // On paper: no banners nor search, black on white
    await page.emulateMedia({ media: "print" });
    const paper = await page.evaluate(() => ({
      search: getComputedStyle(document.getElementById("search")).display,
      background: getComputedStyle(document.body).backgroundColor }));
    check(paper.search === "none" && paper.background === "rgb(255, 255, 255)", "print: " + JSON.stringify(paper));
  });

  task("?seat=" + seatId, phone, async (page) => {
    const card = await page.evaluate(() => {
      const view = document.getElementById("seat-view");
      return {
        status: view.dataset.status, visible: !view.hidden, tableHidden: document.querySelector(".night").offsetParent === null,
        headline: view.querySelector(".seat-headline")?.textContent,
        majority: Number(view.querySelector("[data-majority]")?.dataset.majority),
        majorityChange: view.querySelector("[data-majority-change]")?.dataset.majorityChange,
        swing: view.querySelector("[data-swing]")?.dataset.swing,
        previous: view.querySelector("[data-previous-winner]")?.dataset.previousWinner,
        shares: Array.from(view.querySelectorAll(".previous-shares tr")).map((tr) => tr.dataset.party),
        candidates: Array.from(view.querySelectorAll(".candidates:not(.previous-shares) tr")).map((tr) => tr.dataset.party)
      };
    });
    check(card.status === "declared" && card.visible && card.tableHidden && card.headline === "LAB HOLD"
          && card.majority === seat.majority && JSON.stringify(card.candidates) === JSON.stringify(seat.candidates.map((c) => c.party)),
          "?seat=" + seatId + ": " + JSON.stringify(card));
    check(seat.majority_change !== undefined && seat.previous && seat.swing !== undefined,
          "GET /seat/" + seatId + " lacks previous / majority_change / swing" + WAITS.agg);
    if (seat.previous)
      check(card.previous === seat.previous.winner
            && JSON.stringify(card.shares) === JSON.stringify(seat.previous.shares.map((p) => p.party)),
            "?seat=" + seatId + ": previous result " + card.previous + " " + JSON.stringify(card.shares));
    if (seat.majority_change !== undefined && seat.majority_change !== null)
      check(Number(card.majorityChange) === seat.majority_change, "?seat=" + seatId + ": majority change " + card.majorityChange);
    if (seat.swing)
      check(Number(card.swing) === seat.swing.points, "?seat=" + seatId + ": swing " + card.swing);
    check(await overflow(page) <= 0, "390 px: the seat card scrolls sideways");
  });

  task("?seat=E99999999", phone, async (page) => {
    check(await page.evaluate(() => document.getElementById("seat-view").dataset.status) === "unknown",
          "?seat=E99999999 is not an unknown seat");
  });

  // A region's table: its own figures, no majority line
  task("?scope=East", phone, async (page) => {
    const region = await readPage(page);
    check(east && region.progress === "After " + east.declared + " of " + east.seats_total + " seats"
          && region.majorityLine === 0
          && region.rows.filter((r) => r.party !== "Others").every((r) => east.parties.find((p) => p.party === r.party)?.seats === r.seats),
          "?scope=East: " + region.progress + " " + JSON.stringify(region.rows.slice(0, 3)));
    check(await overflow(page) <= 0, "390 px: ?scope=East scrolls sideways");
  });
  task("?scope=Atlantis", phone, async (page) => {
    check(await page.evaluate(() => !document.getElementById("scope-missing").hidden), "?scope=Atlantis does not say there is none");
  });

  // Light theme, the layouts; none scrolls sideways on a phone
  for (const query of ["?theme=light", "?layout=side", "?layout=lower-third", "?layout=table"])
    task(query, phone, async (page) => {
      check(await overflow(page) <= 0, "390 px: " + query + " scrolls sideways");
      if (query === "?theme=light")
        check(await page.evaluate(() => getComputedStyle(document.body).getPropertyValue("--ink").trim()) === "#10151f",
              "?theme=light is not light");
    });

  // The default layout starts at the top; lower-third sits at the bottom
  for (const [query, top] of [["", true], ["?layout=lower-third", false], ["?layout=side", true]])
    task(query, 1920, async (page) => {
      const box = await page.evaluate(() => ({ strap: document.querySelector(".strap").getBoundingClientRect().top }));
      check(await overflow(page) <= 0, "1920 px: " + (query || "full") + " scrolls sideways");
      check(top ? box.strap < 100 : box.strap > 540, "1920 px " + (query || "full") + ": strap at " + box.strap);
      if (query) return;
      // The map by keyboard: one tab stop, arrow keys walk it, the seat is
      // said; Enter opens its card. A pointer on a hex says it too.
      const before = await page.evaluate(() => {
        const hex = document.querySelector('#hexmap .hex[tabindex="0"]');
        hex.focus();
        return hex.dataset.seat;
      });
      await page.keyboard.press("ArrowRight");
      const walked = await page.evaluate(() => ({ focus: document.activeElement.dataset.seat,
        info: document.getElementById("hex-info").dataset.seat, text: document.getElementById("hex-info").textContent,
        stops: document.querySelectorAll('#hexmap .hex[tabindex="0"]').length }));
      check(walked.focus && walked.focus !== before && walked.info === walked.focus && walked.stops === 1
            && / /.test(walked.text), "the map by keyboard: " + JSON.stringify(walked) + " from " + before);
      await page.hover('#hexmap .hex[data-seat="' + seatId + '"]');
      check(/^Luton North: Labour hold/.test(await page.evaluate(() => document.getElementById("hex-info").textContent)),
            "hovering Luton North's hex does not say it");
      await page.focus('#hexmap .hex[data-seat="' + walked.focus + '"]');
      await Promise.all([page.waitForURL(/\?seat=/), page.keyboard.press("Enter")]);
      check(new URL(page.url()).searchParams.get("seat") === walked.focus, "Enter on a hex opens " + page.url());
    });

  for (let i = 0; i < tasks.length; i += 3)
    await Promise.all(tasks.slice(i, i + 3).map((run) => run()));
}

// A full gateway (issue 11, item 14): the page is refused (503), says why,
// and comes in by itself once a stream frees up, showing the night
async function refusedThenServed() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "test-web-full-"));
  const [ingestPort, updatesPort, snapshotPort, pubUpdatesPort, pubSnapshotPort, httpPort] =
    await Promise.all([1, 2, 3, 4, 5, 6].map(freePort));
  const endpoint = (port) => "tcp://127.0.0.1:" + port;
  const base = "http://127.0.0.1:" + httpPort;
  subset(path.join(tmp, "some.csv"), nightOrder().slice(0, 20));
  start("aggregator", [
    "--baseline", path.join(DATA, "ge2015.csv"), "--ingest", endpoint(ingestPort),
    "--updates", endpoint(updatesPort), "--snapshot", endpoint(snapshotPort)], tmp);
  start("publisher", [
    "--upstream-updates", endpoint(updatesPort), "--upstream-snapshot", endpoint(snapshotPort),
    "--updates", endpoint(pubUpdatesPort), "--snapshot", endpoint(pubSnapshotPort),
    "--http", String(httpPort), "--web-root", path.join(sourceDir, "web"), "--http-streams", "2"], tmp);
  await until("GET /state", () => getJson(base + "/state"));
  ingest(path.join(tmp, "some.csv"), endpoint(ingestPort));
  const state = await until("20 seats in /state", async () => {
    const s = await getJson(base + "/state");
    return s.declared === 20 && s;
  });
  // Two viewers take both streams
  const viewers = [new AbortController(), new AbortController()];
  for (const viewer of viewers) {
    const response = await fetch(base + "/events", { signal: viewer.signal });
    check(response.status === 200, "a stream for a viewer: HTTP " + response.status);
    response.body.getReader().read().catch(() => {});
  }
  const { context, profile } = await browser();
  try {
    const page = context.pages()[0] || await context.newPage();
    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForFunction(() => document.body.dataset.connection === "full", null, { timeout: 20000 });
    const shown = await page.evaluate(() => ({
      line: document.getElementById("connection").textContent,
      visible: !document.getElementById("connection").hidden,
      ready: document.body.dataset.ready
    }));
    check(shown.visible && /full/.test(shown.line) && /again in \d+ s/.test(shown.line),
          "a refused page says why and when it tries again: \"" + shown.line + "\"");
    check(shown.ready === "false", "a refused page claims to be ready");
    await page.screenshot({ path: path.join(ARTIFACTS, "web-full.png") });
    // A viewer leaves: the page gets its stream and the night
    viewers[0].abort();
    await page.waitForFunction((sequence) => document.body.dataset.ready === "true"
      && Number(document.body.dataset.sequence) === sequence && document.getElementById("connection").hidden,
      state.sequence, { timeout: 40000 });
    check(Number(await page.evaluate(() => document.getElementById("declared").dataset.declared)) === 20,
          "the page shows the 20 seats after it got in");
  } finally {
    viewers[1].abort();
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

function stopAll() {
  for (const child of children)
    if (!child.exited) child.kill("SIGTERM");
}

try {
  await main();
  stopAll();
  lap = Date.now();
  await refusedThenServed();
  stage("a full gateway");
} catch (error) {
  failures++;
  console.error("FAIL: " + (error && error.stack || error));
} finally {
  stopAll();
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log("test_web: " + checks + " checks in " + seconds + " s; screenshots in " + ARTIFACTS);
console.log((failures ? 0 : 1) + " passed, " + (failures ? 1 : 0) + " failed");
process.exit(failures ? 1 : 0);
