// The live results page: one EventSource on /events keeps a copy of the
// state (a `state` event, or GET /state, then `seat` / `region` / `national`
// / `health` events) and redraws it. Every figure shown also sits in a data-
// attribute so a test (or a graphics template) can read it exactly.
"use strict";

(function () {
  const params = new URLSearchParams(location.search);
  const api = (params.get("api") || "").replace(/\/$/, "");
  if (params.get("bg") === "transparent") {
    document.documentElement.style.background = "transparent";
    document.body.classList.add("transparent");
  }
  if (params.get("title"))
    document.getElementById("title").textContent = params.get("title");

  const CARDS = Number(params.get("cards")) || 3;     // latest results shown
  const ROWS = Number(params.get("rows")) || 8;       // parties by name; the rest are Others
  const SILENCE_MS = 5000;   // no event (the gateway sends health every second): stale

  const PARTIES = {
    Con:      { name: "CON",      colour: "#0087dc" },
    Lab:      { name: "LAB",      colour: "#e4003b" },
    LD:       { name: "LIB DEM",  colour: "#faa61a", ink: "#111" },
    SNP:      { name: "SNP",      colour: "#fdf38e", ink: "#111" },
    Green:    { name: "GREEN",    colour: "#02a95b" },
    UKIP:     { name: "UKIP",     colour: "#6d3177" },
    PC:       { name: "PLAID",    colour: "#005b54" },
    DUP:      { name: "DUP",      colour: "#d46a4c" },
    SF:       { name: "SINN FEIN", colour: "#326760" },
    SDLP:     { name: "SDLP",     colour: "#2aa82c" },
    UUP:      { name: "UUP",      colour: "#48a5ee" },
    Alliance: { name: "ALLIANCE", colour: "#f6cb2f", ink: "#111" },
    Speaker:  { name: "SPEAKER",  colour: "#909090" },
    Ind:      { name: "IND",      colour: "#bbbbbb", ink: "#111" },
    Others:   { name: "OTHERS",   colour: "#7a7a7a" }
  };
  const party = (code) => PARTIES[code] || { name: String(code || "?").toUpperCase(), colour: "#7a7a7a" };

  const model = {
    ready: false,
    sequence: 0,
    mode: "",
    declared: 0,
    seatsTotal: 0,
    majorityLine: 0,
    parties: [],
    swing: null,
    seats: new Map(),       // ons id -> seat JSON, declared seats only
    upstreamOk: true,
    pair: null,
    connected: false,
    connection: "connecting",   // or open, full, unreachable, error (body data-connection)
    httpStatus: 0,
    retryAt: 0,
    epoch: "",
    lastHeard: 0
  };

  // ---------------------------------------------------------------- model

  function applyNational(n) {
    model.declared = n.declared;
    model.seatsTotal = n.seats_total;
    model.majorityLine = n.majority_line;
    model.parties = n.parties || [];
    model.swing = n.swing || null;
  }

  function onState(state) {
    model.ready = true;
    model.sequence = state.sequence;
    model.epoch = state.epoch;
    model.mode = state.mode;
    applyNational(state);
    model.seats = new Map();
    for (const seat of state.constituencies || [])
      model.seats.set(seat.id, seat);
  }

  function onSeat(update) {
    const seat = update.seat;
    model.mode = update.mode;
    if (seat.declared)
      model.seats.set(seat.id, Object.assign({ arrived: Date.now() }, seat));
    else
      model.seats.delete(seat.id);   // a retraction
  }

  function onNational(update) {
    model.mode = update.mode;
    if (update.topic !== "national")
      return;
    applyNational(update.national);
    model.sequence = Math.max(model.sequence, update.sequence);
  }

  function onHealth(update) {
    model.upstreamOk = !!update.heartbeat.upstream_ok;
    // a pair of aggregators: which one is active, and whether it has a copy
    model.pair = update.heartbeat.pair || null;
    model.mode = update.mode || model.mode;
  }

  // ---------------------------------------------------------------- drawing

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (key === "style") node.style.cssText = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children)
      if (child !== null && child !== undefined)
        node.append(child instanceof Node ? child : String(child));
    return node;
  }

  const number = (n) => Number(n).toLocaleString("en-GB");
  const percent = (n) => Number(n).toFixed(1) + "%";
  const signed = (n, digits) => {
    if (n === null || n === undefined) return "";
    const text = Math.abs(n).toFixed(digits);
    return n > 0 ? "+" + text : n < 0 ? "\u2212" + text : (0).toFixed(digits);
  };
  const trend = (n) => (n > 0 ? "up" : n < 0 ? "down" : "");
  const colours = (code) => {
    const p = party(code);
    return "--party:" + p.colour + ";--party-ink:" + (p.ink || "#fff");
  };

  // Parties shown by name: the first ROWS with seats or votes; the rest are Others
  function tableRows() {
    const named = model.parties.slice(0, ROWS);
    const rest = model.parties.slice(ROWS);
    if (rest.length) {
      const others = { party: "Others", seats: 0, change: 0, votes: 0, share: 0, share_change: 0 };
      for (const p of rest) {
        others.seats += p.seats;
        others.change += p.change;
        others.votes += p.votes;
        others.share += p.share;
        others.share_change += p.share_change;
      }
      named.push(others);
    }
    return named;
  }

  function drawNational() {
    const body = document.getElementById("national-body");
    const rows = tableRows().map((p) => el("tr", {
        "data-party": p.party, "data-seats": p.seats, "data-change": p.change,
        "data-votes": p.votes, "data-share": p.share, "data-share-change": p.share_change,
        style: colours(p.party)
      },
      el("td", { className: "party" }, party(p.party).name),
      el("td", { className: "seats" }, p.seats),
      el("td", { className: "change " + trend(p.change) }, signed(p.change, 0)),
      el("td", { className: "share" }, percent(p.share)),
      el("td", { className: "share-change " + trend(p.share_change) }, signed(p.share_change, 1))));
    body.replaceChildren(...rows);
    const swing = document.getElementById("swing");
    swing.textContent = model.swing && model.swing.from && model.swing.to
      ? "Swing " + party(model.swing.from).name + " to " + party(model.swing.to).name + " "
        + Number(model.swing.points).toFixed(1) + " points"
      : "";
  }

  function drawBar() {
    const total = model.seatsTotal || 650;
    const fill = document.getElementById("seat-bar-fill");
    // Segments are kept, not remade, so that their widths glide
    const old = new Map(Array.from(fill.children).map((node) => [node.dataset.party, node]));
    const segments = tableRows().filter((p) => p.seats > 0).map((p) => {
      const node = old.get(p.party) || el("div", { className: "segment", "data-party": p.party });
      node.dataset.seats = p.seats;
      node.style.width = (100 * p.seats / total) + "%";
      node.style.background = party(p.party).colour;
      node.style.color = party(p.party).ink || "#fff";
      const share = p.seats / total;
      node.textContent = share >= 0.09 ? party(p.party).name + " " + p.seats : share >= 0.03 ? p.seats : "";
      return node;
    });
    for (const [code, node] of old)
      if (!segments.includes(node)) node.remove();
    segments.forEach((node, i) => { if (fill.children[i] !== node) fill.insertBefore(node, fill.children[i] || null); });
    const bar = document.getElementById("seat-bar");
    bar.dataset.majorityLine = model.majorityLine;
    document.getElementById("majority-line").style.left = (100 * model.majorityLine / total) + "%";
    document.getElementById("majority-label").textContent = model.majorityLine + " for a majority";
  }

  // A rush says HOLD or GAIN FROM as a full result does: WIN only for a
  // seat with no previous winner to measure against
  function headline(seat) {
    const winner = party(seat.winner).name;
    if (!seat.previous_winner)
      return winner + " WIN";
    return seat.outcome === "gain"
      ? winner + " GAIN FROM " + party(seat.previous_winner).name
      : winner + " HOLD";
  }

  function card(seat) {
    const facts = seat.kind === "rush"
      ? el("div", { className: "card-facts" }, "Figures to follow")
      : el("div", { className: "card-facts" },
          "Majority ", el("strong", { "data-majority": seat.majority }, number(seat.majority)),
          " \u00b7 Turnout ", el("strong", { "data-turnout": seat.turnout }, percent(seat.turnout)),
          seat.revision > 1 ? " \u00b7 " + (seat.reason || "revised") + " (rev " + seat.revision + ")" : "");
    const candidates = seat.kind === "rush" ? null : el("table", { className: "candidates" },
      ...seat.candidates.slice(0, 5).map((c) => el("tr", {
          "data-party": c.party, "data-votes": c.votes, "data-share": c.share, style: colours(c.party)
        },
        el("td", { className: "cand-party" }, party(c.party).name),
        el("td", { className: "cand-name" }, c.name || ""),
        el("td", {}, number(c.votes)),
        el("td", {}, percent(c.share)),
        el("td", { className: trend(c.share_change) }, signed(c.share_change, 1)))));
    const node = el("article", {
        className: "card arriving", "data-seat": seat.id, "data-key": cardKey(seat), "data-outcome": seat.outcome || "",
        "data-winner": seat.winner || "", style: colours(seat.winner)
      },
      el("div", { className: "card-head" },
        el("span", { className: "seat-name" }, seat.name),
        el("span", { className: "headline" }, headline(seat))),
      facts, candidates);
    node.addEventListener("animationend", () => node.classList.remove("arriving"));
    return node;
  }

  const cardKey = (seat) => seat.id + "/" + seat.revision + "/" + seat.kind;

  function drawLatest() {
    // Newest first: declared time, then arrival on this page
    const seats = Array.from(model.seats.values()).sort((a, b) =>
      (b.declared_at_ms || 0) - (a.declared_at_ms || 0) || (b.arrived || 0) - (a.arrived || 0));
    const latest = document.getElementById("latest");
    if (!seats.length) {
      latest.replaceChildren(el("p", { className: "waiting" }, "Waiting for the first declaration\u2026"));
      return;
    }
    // Cards already shown are kept as they are: only a new one slides in
    const old = new Map(Array.from(latest.querySelectorAll(".card")).map((node) => [node.dataset.key, node]));
    const cards = seats.slice(0, CARDS).map((seat) => old.get(cardKey(seat)) || card(seat));
    if (cards.length !== latest.children.length || cards.some((node, i) => latest.children[i] !== node))
      latest.replaceChildren(...cards);
  }

  function drawConnection() {
    const seconds = Math.max(0, Math.ceil((model.retryAt - Date.now()) / 1000));
    const again = " Trying again in " + seconds + " s\u2026";
    const texts = {
      connecting: "Connecting to the results server\u2026",
      full: "The results server is full: too many viewers at once." + again,
      unreachable: "Cannot reach the results server." + again,
      error: "The results server answered HTTP " + model.httpStatus + "." + again
    };
    const line = document.getElementById("connection");
    line.hidden = model.connection === "open" && model.ready;
    line.textContent = texts[model.connection] || texts.connecting;
    document.body.dataset.connection = model.connection;
  }

  function drawStatus() {
    drawConnection();
    const silent = model.ready && Date.now() - model.lastHeard > SILENCE_MS;
    const stale = model.ready && (!model.upstreamOk || !model.connected || silent);
    const banner = document.getElementById("stale");
    banner.hidden = !stale;
    document.body.dataset.stale = stale;
    document.getElementById("stale-reason").textContent =
      !model.connected ? "lost contact with the results server"
      : !model.upstreamOk ? "the results feed has gone quiet"
      : "no word from the results server";
    const badge = document.getElementById("mode-badge");
    badge.hidden = !model.mode || model.mode === "live";
    badge.dataset.mode = model.mode;
    badge.textContent = (model.mode || "").toUpperCase();
    document.body.dataset.mode = model.mode;
    const pair = document.getElementById("pair-badge");
    pair.hidden = !model.pair;
    if (model.pair) {
      pair.dataset.copy = model.pair.copy;
      pair.textContent = model.pair.role.toUpperCase() + " \u00b7 " + (model.pair.copy ? "COPY"
        : "NO COPY" + (model.pair.copy_behind ? " (" + model.pair.copy_behind + " behind)" : ""));
      pair.title = "Results from the " + model.pair.role + " aggregator (term " + model.pair.term + "); "
        + (model.pair.copy ? "its standby holds every result" : "no standby holds a copy");
    }
  }

  function draw() {
    drawScheduled = false;
    document.getElementById("declared").textContent = model.declared;
    document.getElementById("declared").dataset.declared = model.declared;
    document.getElementById("seats-total").textContent = model.seatsTotal || 650;
    document.getElementById("seats-total").dataset.seatsTotal = model.seatsTotal;
    drawBar();
    drawNational();
    drawLatest();
    drawStatus();
    // Last: a reader that sees this sequence sees everything drawn for it
    document.body.dataset.sequence = model.sequence;
    document.body.dataset.ready = model.ready;
  }

  let drawScheduled = false;
  function schedule() {
    if (!drawScheduled) {
      drawScheduled = true;
      // A timer, not requestAnimationFrame: a hidden tab or an offscreen
      // template renderer may never paint, and the figures must still move
      setTimeout(draw, 50);
    }
  }

  // ---------------------------------------------------------------- stream
  //
  // The publisher's own gateway starts every stream with a `state` event;
  // nginx (nchan) sends events only. So the page fetches GET /state itself
  // when the first thing it hears is not a state, when a sequence is
  // missing (events were lost), and when told `resync`; events that arrive
  // meanwhile wait, and those the state already holds are skipped.

  const stream = { source: null, failures: 0, load: null, pending: [] };

  // Applies an update that comes in order; false if one is missing before it
  function deliver(kind, update) {
    if (update.sequence <= model.sequence)
      return true;                  // the state already holds it
    if (update.sequence > model.sequence + 1)
      return false;                 // the national update of a sequence in between never came
    if (kind === "seat") onSeat(update);
    else if (kind === "national") onNational(update);
    // region (and any other kind): nothing on this screen shows it
    return true;
  }

  function replay() {
    const waiting = stream.pending;
    stream.pending = [];
    for (let i = 0; i < waiting.length; i++) {
      const [kind, update] = waiting[i];
      if (!deliver(kind, update)) {
        stream.pending = waiting.slice(i);
        resync({ sequence: update.sequence - 1 });
        return;
      }
    }
    schedule();
  }

  // GET /state until it is as new as need says (a cache in front of the
  // server may answer with an older one for a moment), then the waiting events
  async function resync(need) {
    const load = stream.load = {};
    for (let attempt = 0; stream.load === load; attempt++) {
      try {
        const response = await fetch(api + "/state", { cache: "no-cache" });
        const state = response.ok ? await response.json() : null;
        if (stream.load !== load)
          return;
        if (state && state.sequence >= need.sequence && (!need.epoch || state.epoch === need.epoch)) {
          stream.load = null;
          onState(state);
          replay();
          return;
        }
      } catch (error) {
        // not reachable just now: again, after a while
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 4000)));
    }
  }

  function onUpdate(kind, update) {
    if (stream.load) {
      stream.pending.push([kind, update]);
      return;
    }
    if (!model.ready || !deliver(kind, update)) {
      stream.pending.push([kind, update]);
      resync({ sequence: model.ready ? update.sequence - 1 : 0 });
      return;
    }
    schedule();
  }

  function listen(source, kind, apply) {
    source.addEventListener(kind, (event) => {
      model.lastHeard = Date.now();
      let data;
      try {
        data = JSON.parse(event.data);
      } catch (error) {
        console.error("bad event", kind, error);
        return;
      }
      apply(data);
    });
  }

  // Why the stream was refused, and when to try again: after the server's
  // Retry-After, or a wait that doubles up to 30 s; spread out, so that the
  // viewers of a full server do not all come back in the same second
  async function retry(source) {
    source.close();
    stream.failures++;
    let wait = Math.min(1000 * 2 ** (stream.failures - 1), 30000);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 5000);
    try {
      const response = await fetch(api + "/events", { method: "HEAD", cache: "no-store", signal: abort.signal });
      model.httpStatus = response.status;
      model.connection = response.status === 503 ? "full" : response.ok ? "connecting" : "error";
      if (response.status === 503)
        wait = Math.max(wait, 1000 * (Number(response.headers.get("Retry-After")) || 0));
    } catch (error) {
      model.connection = "unreachable";
    }
    clearTimeout(timer);
    wait *= 0.75 + Math.random() / 2;
    model.retryAt = Date.now() + wait;
    drawStatus();
    setTimeout(connect, wait);
  }

  function connect() {
    const source = stream.source = new EventSource(api + "/events");
    listen(source, "state", (state) => {
      // The stream's own state: newer than anything waiting or being fetched
      stream.load = null;
      stream.pending = [];
      onState(state);
      schedule();
    });
    for (const kind of ["seat", "region", "national"])
      listen(source, kind, (update) => onUpdate(kind, update));
    listen(source, "health", (update) => {
      onHealth(update);
      if (!model.ready && !stream.load)
        resync({ sequence: 0 });
      drawStatus();
    });
    listen(source, "resync", (need) => {
      stream.pending = [];
      resync(need);
    });
    source.onopen = () => {
      stream.failures = 0;
      model.connected = true;
      model.connection = "open";
      model.lastHeard = Date.now();
      schedule();
    };
    source.onerror = () => {
      model.connected = false;
      // A dropped stream is retried by EventSource itself (resuming with
      // Last-Event-ID); an answer that is not a stream (503 from a full
      // server, 502 from a proxy) makes it give up for good: we retry
      if (source.readyState === EventSource.CLOSED)
        retry(source);
      else
        model.connection = "connecting";
      schedule();
    };
  }

  connect();
  setInterval(drawStatus, 1000);
})();
