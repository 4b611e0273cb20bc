// The live results page in a real browser: starts the real aggregator and
// publisher (HTTP gateway on a free loopback port), declares part of the
// 2017 night, opens the page in headless Chromium and checks that what it
// shows equals GET /state; declares more and checks the page follows; then
// silences the aggregator and checks the STALE banner. Readiness is always
// asked for (polling /state, the page's data-sequence), never slept on.
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
const SECOND = 60;   // seats declared while it is open
const started = Date.now();
const children = [];
let failures = 0;
let checks = 0;

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

  const { context, profile } = await browser();
  try {
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    const foreign = [];
    watchErrors(page, errors);
    page.on("request", (request) => { if (!request.url().startsWith(base + "/")) foreign.push(request.url()); });

    await page.goto(base + "/", { waitUntil: "load" });
    await page.waitForFunction((sequence) => document.body.dataset.ready === "true"
      && Number(document.body.dataset.sequence) >= sequence, state.sequence, { timeout: 20000 });
    compare(await readPage(page), await getJson(base + "/state"), "after " + FIRST + " seats");

    // More results while the page is open: it follows the stream
    ingest(path.join(tmp, "second.csv"), endpoint(ingestPort));
    state = await until((FIRST + SECOND) + " seats in /state", async () => {
      const s = await getJson(base + "/state");
      return s.declared === FIRST + SECOND && s;
    });
    await page.waitForFunction((sequence) => Number(document.body.dataset.sequence) >= sequence,
                               state.sequence, { timeout: 20000 });
    compare(await readPage(page), await getJson(base + "/state"), "after " + (FIRST + SECOND) + " seats");
    await page.screenshot({ path: path.join(ARTIFACTS, "web-live.png") });

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

    check(errors.length === 0, "errors in the page: " + errors.join("; "));
    check(foreign.length === 0, "the page fetched from elsewhere: " + foreign.join(", "));

    // The publisher stops cleanly with a browser still on its event stream
    publisher.kill("SIGTERM");
    await until("the publisher to exit", () => publisher.exited, 10000);
    check(publisher.status === 0, "publisher exit status " + publisher.status + " on SIGTERM");
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  fs.rmSync(tmp, { recursive: true, force: true });
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
  await refusedThenServed();
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
