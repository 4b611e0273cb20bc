// The live results page: one EventSource on /events keeps a copy of the
// state (a `state` event, or GET /state, then `seat` / `region` / `national`
// / `projection` / `health` events) and redraws it. Every figure shown also
// sits in a data- attribute so a test (or a graphics template) can read it
// exactly. A panel whose figures the server does not send is hidden, never
// filled with zeros.
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
  const LAYOUTS = ["full", "lower-third", "table", "side"];
  document.body.dataset.layout = LAYOUTS.includes(params.get("layout")) ? params.get("layout") : "full";
  document.body.dataset.theme = params.get("theme") === "light" ? "light" : "dark";
  const SEAT = (params.get("seat") || "").trim().toUpperCase();     // one seat's card
  const SCOPE = SEAT ? "" : (params.get("scope") || "").trim();      // one region's table
  document.body.dataset.view = SEAT ? "seat" : SCOPE ? "scope" : "night";

  const CARDS = Number(params.get("cards")) || 3;     // latest results shown
  const ROWS = Number(params.get("rows")) || 8;       // parties by name; the rest are Others
  const SILENCE_MS = 5000;   // no event (the gateway sends health every second): stale
  const NO_ANSWER_MS = 2500; // not showing the night by then: say so, keep trying
  const HEXMAP = "constituencies-2010.hexjson";       // beside the page, not from ?api
  const GREY = "#5b6478";

  // Short labels for the strap and tables; full names come from the
  // server's party register (the JSON's name / party_name / winner_name)
  const PARTIES = {
    Con:      { name: "CON",      colour: "#0087dc", full: "Conservative" },
    Lab:      { name: "LAB",      colour: "#e4003b", full: "Labour" },
    LD:       { name: "LIB DEM",  colour: "#faa61a", ink: "#111", full: "Liberal Democrats" },
    SNP:      { name: "SNP",      colour: "#fdf38e", ink: "#111", full: "Scottish National Party" },
    Green:    { name: "GREEN",    colour: "#02a95b", full: "Green Party" },
    UKIP:     { name: "UKIP",     colour: "#6d3177", full: "UK Independence Party" },
    PC:       { name: "PLAID",    colour: "#005b54", full: "Plaid Cymru" },
    DUP:      { name: "DUP",      colour: "#d46a4c", full: "Democratic Unionist Party" },
    SF:       { name: "SINN FEIN", colour: "#326760", full: "Sinn F\u00e9in" },
    SDLP:     { name: "SDLP",     colour: "#2aa82c", full: "Social Democratic and Labour Party" },
    UUP:      { name: "UUP",      colour: "#48a5ee", full: "Ulster Unionist Party" },
    Alliance: { name: "ALLIANCE", colour: "#f6cb2f", ink: "#111", full: "Alliance Party" },
    Speaker:  { name: "SPEAKER",  colour: "#909090", full: "Speaker" },
    Ind:      { name: "IND",      colour: "#bbbbbb", ink: "#111", full: "Independent" },
    Others:   { name: "OTHERS",   colour: "#7a7a7a", full: "Others" }
  };
  const party = (code) => PARTIES[code] || { name: String(code || "?").toUpperCase(), colour: "#7a7a7a" };
  const names = new Map();    // party code -> full name, as the server last said
  const fullName = (code, given) => given || names.get(code) || party(code).full || String(code || "");
  function learnNames(list, codeKey, nameKey) {
    for (const item of list || [])
      if (item && item[codeKey] && item[nameKey] && item[nameKey] !== item[codeKey])
        names.set(item[codeKey], item[nameKey]);
  }

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
    all: new Map(),         // ons id -> latest seat JSON heard, declared or not (projected winners)
    regions: new Map(),     // scope name -> summary
    parliament: null,       // the server's, when it sends one
    projection: null,
    exitPoll: null,
    gains: null,            // the server's list, in declaration order; null: derived from seats
    upstreamOk: true,
    staleSource: null,      // the tier that is not live (health's stale_source)
    pair: null,
    connected: false,
    connection: "connecting",   // or open, noanswer, full, unreachable, error (body data-connection)
    httpStatus: 0,
    retryAt: 0,
    epoch: "",
    lastHeard: 0,
    latestKey: ""
  };

  // ---------------------------------------------------------------- model

  function applyNational(n) {
    model.declared = n.declared;
    model.seatsTotal = n.seats_total;
    model.majorityLine = n.majority_line;
    model.parties = n.parties || [];
    model.swing = n.swing || null;
    learnNames(model.parties, "party", "name");
    if (n.parliament !== undefined) model.parliament = n.parliament;
  }

  function onState(state) {
    model.ready = true;
    model.sequence = state.sequence;
    model.epoch = state.epoch;
    model.mode = state.mode;
    applyNational(state);
    model.seats = new Map();
    for (const seat of state.constituencies || []) {
      model.seats.set(seat.id, seat);
      model.all.set(seat.id, seat);
    }
    // an undeclared seat heard before stays (its projected winner); a
    // declared one the state no longer has was withdrawn
    for (const [id, seat] of model.all)
      if (seat.declared && !model.seats.has(id))
        model.all.delete(id);
    model.regions = new Map((state.regions || []).map((r) => [r.scope, r]));
    model.parliament = state.parliament || null;
    model.projection = state.projection || null;
    model.exitPoll = state.exit_poll || null;
    model.gains = Array.isArray(state.gains) ? state.gains.slice() : null;
    // Upstream health as of this state: a page opened on a stale feed says so at once
    if (typeof state.upstream_ok === "boolean")
      model.upstreamOk = state.upstream_ok;
    // A server that sends gains and the parliament line (issue 13) also
    // lists every seat; an older one would only answer 404
    if (Array.isArray(state.gains) || state.parliament)
      loadSeats();
    loadSeat();
  }

  function onSeat(update) {
    const seat = update.seat;
    model.mode = update.mode;
    model.all.set(seat.id, Object.assign({ heard: update.sequence }, seat));
    if (seat.declared)
      model.seats.set(seat.id, Object.assign({ arrived: Date.now() }, seat));
    else
      model.seats.delete(seat.id);   // not declared yet, or a retraction
    if (model.gains) {
      // The server's list, kept as it keeps it (lib/view/state_json.c)
      const at = model.gains.findIndex((g) => g.id === seat.id);
      if (seat.declared && seat.outcome === "gain") {
        const entry = {
          id: seat.id, name: seat.name, winner: seat.winner, winner_name: seat.winner_name,
          winner_colour: seat.winner_colour, previous_winner: seat.previous_winner,
          previous_winner_name: seat.previous && seat.previous.winner_name || null,
          declared_at_ms: seat.declared_at_ms,
          // the sequence its declaration went out under, as the server lists it
          sequence: typeof seat.declared_sequence === "number" ? seat.declared_sequence : update.sequence
        };
        if (at < 0) model.gains.push(entry);
        else model.gains[at] = entry;
        // The server's order: declaration time (a seat without one last), then sequence
        const at_ms = (g) => (typeof g.declared_at_ms === "number" ? g.declared_at_ms : Infinity);
        model.gains.sort((a, b) => at_ms(a) - at_ms(b) || a.sequence - b.sequence);
      } else if (at >= 0) {
        model.gains.splice(at, 1);
      }
    }
    if (seat.id === SEAT) {
      seatView.seat = seat;
      seatView.status = "known";
    }
  }

  function onNational(update) {
    model.mode = update.mode;
    if (update.topic !== "national") {
      if (update.national && update.national.scope)
        model.regions.set(update.national.scope, update.national);
      return;
    }
    applyNational(update.national);
    if (update.parliament !== undefined) model.parliament = update.parliament;
    model.sequence = Math.max(model.sequence, update.sequence);
  }

  function onProjection(update) {
    if (update.projection === undefined) return;
    model.projection = update.projection;
    // the exit poll behind it, if any (the state carries it beside)
    if (update.projection && update.projection.exit_poll !== undefined)
      model.exitPoll = update.projection.exit_poll;
  }

  function onHealth(update) {
    const heartbeat = update.heartbeat || {};
    model.upstreamOk = heartbeat.upstream_ok !== false;
    model.staleSource = heartbeat.stale_source || null;
    // a pair of aggregators: which one is active, and whether it has a copy
    model.pair = heartbeat.pair || null;
    model.mode = update.mode || model.mode;
  }

  // Every seat, declared or not (desk-view's /seats): projected winners for
  // the map. A server without it answers 404: the map shows declared seats only.
  let seatsLoad = null;
  function loadSeats() {
    if (seatsLoad) return;
    seatsLoad = fetch(api + "/seats", { cache: "no-cache" })
      .then((response) => (response.ok ? response.json() : null))
      .then((body) => {
        for (const seat of (body && body.seats) || []) {
          const known = model.all.get(seat.id);
          // a seat event heard since, or a declared seat, is newer than this list
          if (!model.seats.has(seat.id) && (!known || (known.heard || 0) < body.sequence))
            model.all.set(seat.id, Object.assign({ heard: body.sequence }, seat));
        }
        schedule();
      })
      .catch(() => {})
      .finally(() => { seatsLoad = null; });
  }

  // ---------------------------------------------------------------- drawing

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null) continue;
      if (key === "style") node.style.cssText = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children)
      if (child !== null && child !== undefined && child !== false)
        node.append(child instanceof Node ? child : String(child));
    return node;
  }

  const number = (n) => Number(n).toLocaleString("en-GB");
  const percent = (n) => Number(n).toFixed(1) + "%";
  // Never "+0.0" for a missing figure nor "-0.0" for a tiny fall
  const signed = (n, digits) => {
    if (n === null || n === undefined || Number.isNaN(Number(n))) return "";
    const text = Math.abs(n).toFixed(digits);
    if (Number(text) === 0) return (0).toFixed(digits);
    return n > 0 ? "+" + text : "\u2212" + text;
  };
  const trend = (n) => (n > 0 ? "up" : n < 0 ? "down" : "");
  const colourOf = (code, given) => given || party(code).colour;
  const colours = (code, given) => {
    const p = party(code);
    return "--party:" + colourOf(code, given) + ";--party-ink:" + (p.ink || "#fff");
  };
  // A short label that a screen reader reads as the party's full name
  const partyLabel = (code, given) => {
    const full = fullName(code, given);
    return el("span", { className: "party-label" },
      el("span", { "aria-hidden": "true" }, party(code).name),
      el("span", { className: "sr-only", "data-full-name": full }, full));
  };
  const clock = (ms) => new Date(ms).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });

  // The figures of the scope on screen: the UK, or ?scope=Region
  function scopeSummary() {
    if (!SCOPE)
      return { declared: model.declared, seats_total: model.seatsTotal, majority_line: model.majorityLine,
               parties: model.parties, swing: model.swing };
    for (const [name, summary] of model.regions)
      if (name.toLowerCase() === SCOPE.toLowerCase())
        return summary;
    return null;
  }
  const inScope = (seat) => !SCOPE || (seat.region || "").toLowerCase() === SCOPE.toLowerCase()
    || (seat.country || "").toLowerCase() === SCOPE.toLowerCase();

  // Parties shown by name: the first ROWS with seats or votes; the rest are Others
  function tableRows(parties) {
    const named = parties.slice(0, ROWS);
    const rest = parties.slice(ROWS);
    if (rest.length) {
      const others = { party: "Others", name: "Others", seats: 0, change: 0, votes: 0, share: 0, share_change: 0 };
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

  function drawNational(summary) {
    const body = document.getElementById("national-body");
    const rows = tableRows(summary.parties || []).map((p) => el("tr", {
        "data-party": p.party, "data-seats": p.seats, "data-change": p.change,
        "data-votes": p.votes, "data-share": p.share, "data-share-change": p.share_change,
        style: colours(p.party, p.colour)
      },
      el("td", { className: "party" }, partyLabel(p.party, p.name)),
      el("td", { className: "seats" }, p.seats),
      el("td", { className: "change " + trend(p.change) }, signed(p.change, 0)),
      el("td", { className: "share" }, percent(p.share)),
      el("td", { className: "share-change " + trend(p.share_change) }, signed(p.share_change, 1))));
    body.replaceChildren(...rows);
    const swing = document.getElementById("swing");
    const s = summary.swing;
    swing.textContent = s && s.from && s.to
      ? "Swing " + party(s.from).name + " to " + party(s.to).name + " " + Number(s.points).toFixed(1) + " points"
      : "";
  }

  function drawBar(summary) {
    const total = summary.seats_total || 1;
    const fill = document.getElementById("seat-bar-fill");
    // Segments are kept, not remade, so that their widths glide
    const old = new Map(Array.from(fill.children).map((node) => [node.dataset.party, node]));
    const segments = tableRows(summary.parties || []).filter((p) => p.seats > 0).map((p) => {
      const node = old.get(p.party) || el("div", { className: "segment", "data-party": p.party });
      node.dataset.seats = p.seats;
      node.style.width = (100 * p.seats / total) + "%";
      node.style.background = colourOf(p.party, p.colour);
      node.style.color = party(p.party).ink || "#fff";
      node.title = fullName(p.party, p.name) + ": " + p.seats;
      const share = p.seats / total;
      node.textContent = share >= 0.09 ? party(p.party).name + " " + p.seats : share >= 0.03 ? p.seats : "";
      return node;
    });
    for (const [, node] of old)
      if (!segments.includes(node)) node.remove();
    segments.forEach((node, i) => { if (fill.children[i] !== node) fill.insertBefore(node, fill.children[i] || null); });
    const bar = document.getElementById("seat-bar");
    const line = SCOPE ? 0 : summary.majority_line;
    bar.dataset.majorityLine = line || 0;
    // No line (a region, or a state without one): no "0 for a majority"
    document.getElementById("majority-line").hidden = !line;
    document.getElementById("majority-line").style.left = (100 * line / total) + "%";
    document.getElementById("majority-label").textContent = line ? line + " for a majority" : "";
  }

  // -------------------------------------------------- parliament

  // The server's parliament object when it is current; else the same
  // words worked out as the server does (lib/view/parliament.c) from the
  // national table, which every sequence brings: the state's object is
  // only as new as the last GET /state
  function parliament() {
    const p = model.parliament;
    if (p && p.declared === model.declared && p.text)
      return p;
    const line = model.majorityLine, total = model.seatsTotal, declared = model.declared;
    // parties come most seats first, then most votes
    const largest = model.parties.find((x) => x.seats > 0);
    if (!declared || !line || !largest)
      return null;
    const complete = total > 0 && declared >= total;
    const needed = model.parties.filter((x) => x.seats > 0)
      .map((x) => ({ party: x.party, name: x.name, seats: x.seats, needed: Math.max(0, line - x.seats) }));
    const code = largest.party, seats = largest.seats;
    const tally = " (" + declared + " of " + total + " declared)";
    let text;
    if (seats >= line)
      text = complete ? code + " majority of " + (2 * seats - total)
        : code + " have a majority: " + seats + " seats" + tally;
    else if (seats + (total - declared) < line)
      text = complete ? "HUNG PARLIAMENT \u2014 " + code + " " + (line - seats) + " short of " + line
        : "HUNG PARLIAMENT \u2014 no party can reach " + line + tally;
    else
      text = code + " need " + (line - seats) + " more for a majority" + tally;
    return { text, needed, complete, derived: true };
  }

  function drawParliament() {
    const panel = document.getElementById("parliament");
    const p = SCOPE ? null : parliament();
    panel.hidden = !p;
    if (!p) return;
    const text = document.getElementById("parliament-text");
    text.textContent = p.text;
    text.dataset.text = p.text;
    panel.dataset.complete = !!p.complete;
    panel.dataset.hung = String(/^HUNG/.test(p.text));
    panel.dataset.source = p.derived ? "page" : "server";
    const needed = document.getElementById("needed");
    needed.replaceChildren(...(p.complete ? [] : (p.needed || []).slice(0, 4).map((n) =>
      el("li", { "data-party": n.party, "data-needed": n.needed, style: colours(n.party) },
        partyLabel(n.party, n.name), " ", n.seats, " \u00b7 ",
        n.needed > 0 ? "needs " + n.needed : "majority"))));
  }

  // -------------------------------------------------- projection

  function drawProjection() {
    const panel = document.getElementById("projection-panel");
    const projection = model.projection;
    const poll = model.exitPoll;
    const shown = SCOPE ? null : projection && projection.parties && projection.parties.length ? "projection"
      : poll && poll.parties && poll.parties.length ? "exit poll" : null;
    panel.hidden = !shown;
    if (!shown) return;
    const basis = shown === "exit poll" ? "exit poll" : projection.basis || "results";
    panel.dataset.basis = basis;
    const label = basis === "exit poll" ? "Exit poll" : basis === "baseline" ? "Projection (last election)" : "Projection";
    document.getElementById("projection-label").textContent = label;
    const verdict = document.getElementById("projection-verdict");
    verdict.textContent = shown === "projection" ? projection.verdict || "" : "";
    const based = document.getElementById("projection-basis");
    if (shown === "projection" && basis === "results") {
      based.textContent = "Based on " + number(projection.based_on) + " result" + (projection.based_on === 1 ? "" : "s");
      based.dataset.basedOn = projection.based_on;
    } else {
      based.textContent = basis === "exit poll" ? "Broadcasters' exit poll, until the results take over"
        : "From the last election's result, until results come in";
      based.dataset.basedOn = "";
    }
    // Per nation: declared so far, and projected among the rest
    const nations = shown === "projection" && projection.nations || [];
    document.getElementById("projection-nations").replaceChildren(...nations.map((n) =>
      el("li", { "data-nation": n.nation, "data-declared": n.declared, "data-projected": n.projected },
        n.nation + " ", el("strong", {}, n.declared), " declared + " + n.projected + " projected of " + n.seats_total)));
    const parties = shown === "projection" ? projection.parties : poll.parties;
    document.getElementById("projection-body").replaceChildren(...parties.slice(0, ROWS).map((p) =>
      el("tr", { "data-party": p.party, "data-seats": p.seats, "data-low": p.low, "data-high": p.high,
                 style: colours(p.party, p.colour) },
        el("td", { className: "party" }, partyLabel(p.party, p.name)),
        el("td", { className: "seats" }, p.seats),
        el("td", { className: "range" }, p.low !== undefined && p.high !== undefined
          ? el("span", { "aria-label": "from " + p.low + " to " + p.high }, p.low + "\u2013" + p.high) : ""))));
  }

  // -------------------------------------------------- gains

  function gainsList() {
    if (model.gains)
      return model.gains;
    // Before the server lists them: the declared gains, in declaration order
    return Array.from(model.seats.values()).filter((s) => s.outcome === "gain")
      .sort((a, b) => (a.declared_at_ms || 0) - (b.declared_at_ms || 0) || (a.arrived || 0) - (b.arrived || 0))
      .map((s) => ({ id: s.id, name: s.name, winner: s.winner, winner_name: s.winner_name,
                     winner_colour: s.winner_colour, previous_winner: s.previous_winner }));
  }

  function drawGains() {
    const panel = document.getElementById("gains-panel");
    const gains = gainsList().filter((g) => !SCOPE || inScope(model.all.get(g.id) || {}));
    panel.hidden = !model.declared;
    panel.dataset.source = model.gains ? "server" : "page";
    document.getElementById("gains-count").textContent = model.declared ? "(" + gains.length + ")" : "";
    const list = document.getElementById("gains");
    const key = gains.map((g) => g.id + g.winner).join();
    if (list.dataset.key === key) return;
    list.dataset.key = key;
    // Newest first, as a ticker reads; data-order keeps declaration order
    list.replaceChildren(...gains.map((g, i) => el("li", {
        "data-seat": g.id, "data-order": i, "data-winner": g.winner, style: colours(g.winner, g.winner_colour)
      },
      el("a", { href: link({ seat: g.id }) }, g.name), " ",
      el("span", { className: "gain-headline" }, partyLabel(g.winner, g.winner_name), " gain from ",
         partyLabel(g.previous_winner, g.previous_winner_name)))).reverse());
    if (!gains.length)
      list.replaceChildren(el("li", { className: "none" }, "No seat has changed hands yet"));
  }

  // -------------------------------------------------- result cards

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
  function spoken(seat) {
    const winner = fullName(seat.winner, seat.winner_name);
    if (!seat.previous_winner) return seat.name + ": " + winner + " win";
    return seat.outcome === "gain"
      ? seat.name + ": " + winner + " gain from " + fullName(seat.previous_winner, seat.previous && seat.previous.winner_name)
      : seat.name + ": " + winner + " hold";
  }

  function candidatesTable(seat, count) {
    return el("table", { className: "candidates" },
      ...seat.candidates.slice(0, count).map((c) => el("tr", {
          "data-party": c.party, "data-votes": c.votes, "data-share": c.share, style: colours(c.party, c.colour)
        },
        el("td", { className: "cand-party" }, partyLabel(c.party, c.party_name)),
        el("td", { className: "cand-name" }, c.name || ""),
        el("td", {}, number(c.votes)),
        el("td", {}, percent(c.share)),
        el("td", { className: trend(c.share_change) }, signed(c.share_change, 1)))));
  }

  function card(seat) {
    const facts = seat.kind === "rush"
      ? el("div", { className: "card-facts" }, "Figures to follow")
      : el("div", { className: "card-facts" },
          "Majority ", el("strong", { "data-majority": seat.majority }, number(seat.majority)),
          " \u00b7 Turnout ", el("strong", { "data-turnout": seat.turnout }, percent(seat.turnout)),
          seat.revision > 1 ? " \u00b7 " + (seat.reason || "revised") + " (rev " + seat.revision + ")" : "");
    const candidates = seat.kind === "rush" ? null : candidatesTable(seat, 5);
    // Only a new card slides in: the class goes when its animation ends,
    // and drawLatest never re-inserts a card it keeps (that would restart it)
    const node = el("article", {
        className: "card arriving", "data-seat": seat.id, "data-key": cardKey(seat), "data-outcome": seat.outcome || "",
        "data-winner": seat.winner || "", style: colours(seat.winner, seat.winner_colour)
      },
      el("div", { className: "card-head" },
        el("a", { className: "seat-name", href: link({ seat: seat.id }) }, seat.name),
        el("span", { className: "headline", "aria-label": spoken(seat) }, headline(seat))),
      facts, candidates);
    node.addEventListener("animationend", () => node.classList.remove("arriving"));
    return node;
  }

  const cardKey = (seat) => seat.id + "/" + seat.revision + "/" + seat.kind;

  function drawLatest() {
    // Newest first: declared time, then arrival on this page
    const seats = Array.from(model.seats.values()).filter(inScope).sort((a, b) =>
      (b.declared_at_ms || 0) - (a.declared_at_ms || 0) || (b.arrived || 0) - (a.arrived || 0));
    const latest = document.getElementById("latest");
    if (!seats.length) {
      if (!latest.querySelector(".waiting"))
        latest.replaceChildren(el("p", { className: "waiting" }, "Waiting for the first declaration\u2026"));
      return;
    }
    latest.querySelector(".waiting")?.remove();
    // Cards already shown stay where they are in the DOM (moving one
    // would restart its animation): new ones go in before them, the
    // surplus goes from the end
    const old = new Map(Array.from(latest.querySelectorAll(".card")).map((node) => [node.dataset.key, node]));
    const cards = seats.slice(0, CARDS).map((seat) => old.get(cardKey(seat)) || card(seat));
    for (const [key, node] of old)
      if (!cards.includes(node)) { node.remove(); old.delete(key); }
    cards.forEach((node, i) => {
      if (latest.children[i] !== node) latest.insertBefore(node, latest.children[i] || null);
    });
    // The newest result, read out once
    const newest = seats[0];
    if (cardKey(newest) !== model.latestKey) {
      model.latestKey = cardKey(newest);
      const live = document.getElementById("live-result");
      live.textContent = "Latest result: " + spoken(newest);
      live.dataset.seat = newest.id;
    }
  }

  // -------------------------------------------------- hex map

  const hexmap = { hexes: null, nodes: new Map(), grid: new Map(), rows: new Map(), focus: null };

  // HexJSON "odd-r": pointy-topped hexes in rows; odd rows sit half a hex
  // to the right. Rows count northwards, so y is flipped.
  function buildHexmap(json) {
    const svg = document.getElementById("hexmap");
    const NS = "http://www.w3.org/2000/svg";
    const entries = Object.entries(json.hexes || {});
    const w = Math.sqrt(3);
    const rMax = Math.max(...entries.map(([, h]) => h.r));
    const place = (h) => [w * (h.q + ((h.r & 1) ? 0.5 : 0)), 1.5 * (rMax - h.r)];
    const xs = entries.map(([, h]) => place(h)[0]);
    const ys = entries.map(([, h]) => place(h)[1]);
    const minX = Math.min(...xs) - 1, minY = Math.min(...ys) - 1.1;
    svg.setAttribute("viewBox", [minX, minY, Math.max(...xs) - minX + 1, Math.max(...ys) - minY + 1.1]
      .map((n) => n.toFixed(2)).join(" "));
    const corners = [0, 1, 2, 3, 4, 5].map((i) => {
      const angle = Math.PI / 180 * (60 * i - 30);
      return [Math.cos(angle) * 0.96, Math.sin(angle) * 0.96];
    });
    const datalist = document.getElementById("seat-names");
    const options = [];
    for (const [id, h] of entries) {
      const [x, y] = place(h);
      const node = document.createElementNS(NS, "polygon");
      node.setAttribute("points", corners.map(([cx, cy]) => (x + cx).toFixed(3) + "," + (y + cy).toFixed(3)).join(" "));
      node.setAttribute("class", "hex");
      node.setAttribute("data-seat", id);
      node.setAttribute("data-state", "none");
      node.setAttribute("tabindex", "-1");
      node.setAttribute("role", "img");
      node.setAttribute("aria-label", h.n + ": not declared");
      node.style.fill = GREY;
      svg.append(node);
      hexmap.nodes.set(id, node);
      hexmap.grid.set(h.q + "," + h.r, id);
      if (!hexmap.rows.has(h.r)) hexmap.rows.set(h.r, []);
      hexmap.rows.get(h.r).push([h.q, id]);
      options.push(el("option", { value: h.n }));
    }
    options.sort((a, b) => a.value.localeCompare(b.value));
    datalist.replaceChildren(...options);
    hexmap.hexes = json.hexes;
    hexmap.focus = entries.length ? entries[0][0] : null;
    if (hexmap.focus) hexmap.nodes.get(hexmap.focus).setAttribute("tabindex", "0");
    svg.addEventListener("mouseover", (event) => { if (event.target.dataset.seat) describe(event.target.dataset.seat); });
    svg.addEventListener("focusin", (event) => { if (event.target.dataset.seat) describe(event.target.dataset.seat); });
    svg.addEventListener("click", (event) => {
      const id = event.target.dataset && event.target.dataset.seat;
      if (!id) return;
      // a tap shows the seat; a second tap on it opens its card
      if (document.getElementById("hex-info").dataset.seat === id && event.detail > 0 && hexmap.tapped === id)
        location.search = link({ seat: id });
      hexmap.tapped = id;
      move(id);
    });
    svg.addEventListener("keydown", onHexKey);
    document.getElementById("map-panel").hidden = false;
    schedule();
  }

  function move(id) {
    const old = hexmap.nodes.get(hexmap.focus);
    if (old) old.setAttribute("tabindex", "-1");
    hexmap.focus = id;
    const node = hexmap.nodes.get(id);
    node.setAttribute("tabindex", "0");
    node.focus();
    describe(id);
  }

  // Arrow keys walk the grid: left and right along a row, up and down to
  // the seat nearest across in the next row north or south that has one
  function onHexKey(event) {
    const h = hexmap.hexes[hexmap.focus];
    if (!h) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      location.search = link({ seat: hexmap.focus });
      return;
    }
    const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] }[event.key];
    if (!step) return;
    event.preventDefault();
    const [dq, dr] = step;
    const across = (q, r) => q + ((r & 1) ? 0.5 : 0);
    for (let distance = 1; distance < 60; distance++) {
      if (dq) {
        const key = (h.q + dq * distance) + "," + h.r;
        if (hexmap.grid.has(key)) { move(hexmap.grid.get(key)); return; }
        continue;
      }
      const row = hexmap.rows.get(h.r + dr * distance) || [];
      let best = null;
      for (const [q, id] of row)
        if (!best || Math.abs(across(q, h.r + dr * distance) - across(h.q, h.r))
                     < Math.abs(across(best[0], h.r + dr * distance) - across(h.q, h.r)))
          best = [q, id];
      if (best) { move(best[1]); return; }
    }
  }

  function hexState(id) {
    const seat = model.seats.get(id);
    if (seat)
      return { state: "declared", party: seat.winner, colour: colourOf(seat.winner, seat.winner_colour), seat };
    const any = model.all.get(id);
    if (any && !any.declared && any.projected_winner)
      return { state: "projected", party: any.projected_winner,
               colour: colourOf(any.projected_winner, any.projected_winner_colour), seat: any };
    return { state: "none", party: "", colour: GREY, seat: any };
  }

  function describe(id) {
    const info = document.getElementById("hex-info");
    const name = hexmap.hexes[id] ? hexmap.hexes[id].n : id;
    const s = hexState(id);
    info.dataset.seat = id;
    info.replaceChildren(el("a", { href: link({ seat: id }) }, name), ": ",
      s.state === "declared" ? spoken(s.seat).slice(s.seat.name.length + 2)
        + (s.seat.kind === "rush" ? "" : ", majority " + number(s.seat.majority))
      : s.state === "projected" ? "not declared; projected " + fullName(s.party, s.seat.projected_winner_name)
      : "not declared");
  }

  function drawHexmap() {
    if (!hexmap.hexes) return;
    for (const [id, node] of hexmap.nodes) {
      const s = hexState(id);
      const key = s.state + s.party + s.colour;
      const outside = SCOPE && s.seat ? !inScope(s.seat) : false;
      if (node.dataset.key === key && node.dataset.outside === String(outside)) continue;
      node.dataset.key = key;
      node.dataset.state = s.state;
      node.dataset.winner = s.party;
      node.dataset.outside = String(outside);
      node.style.fill = s.colour;
      const name = hexmap.hexes[id].n;
      node.setAttribute("aria-label", name + ": " + (s.state === "declared" ? fullName(s.party, s.seat.winner_name)
        : s.state === "projected" ? "not declared, projected " + fullName(s.party, s.seat.projected_winner_name)
        : "not declared"));
    }
    if (document.getElementById("hex-info").dataset.seat)
      describe(document.getElementById("hex-info").dataset.seat);
  }

  fetch(HEXMAP).then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
    .then(buildHexmap)
    .catch((error) => console.warn("hex map not loaded: " + error));

  // -------------------------------------------------- one seat (?seat=)

  const seatView = { seat: null, status: "" };   // status: known, missing (404), or "" (asking)
  let seatLoad = null;
  function loadSeat() {
    if (!SEAT || seatLoad) return;
    seatLoad = fetch(api + "/seat/" + encodeURIComponent(SEAT), { cache: "no-cache" })
      .then(async (response) => {
        if (response.ok) {
          seatView.seat = await response.json();
          seatView.status = "known";
        } else if (response.status === 404) {
          // A seat on the map that the server does not list yet is a seat
          // not declared, not an unknown one (a server before desk-view)
          seatView.status = "missing";
        }
        schedule();
      })
      .catch(() => {})
      .finally(() => { seatLoad = null; });
  }

  function drawSeat() {
    const view = document.getElementById("seat-view");
    view.hidden = !SEAT;
    if (!SEAT) return;
    const seat = model.seats.get(SEAT) || seatView.seat;
    const status = seat ? (seat.declared ? "declared" : seat.withdrawn ? "withdrawn" : "undeclared")
      : seatView.status !== "missing" ? "" : !hexmap.hexes ? "" : hexmap.hexes[SEAT] ? "undeclared" : "unknown";
    view.dataset.status = status;
    view.dataset.seat = SEAT;
    const key = JSON.stringify(seat) + status + model.all.has(SEAT);
    if (view.dataset.key === key) return;
    view.dataset.key = key;
    const name = seat ? seat.name : hexmap.hexes && hexmap.hexes[SEAT] ? hexmap.hexes[SEAT].n : SEAT;
    document.title = name + ": election night";
    if (status === "unknown") {
      view.replaceChildren(el("h2", { className: "seat-title" }, "Unknown seat"),
        el("p", { className: "notice" }, "No constituency has the id " + SEAT + "."));
      return;
    }
    if (!status) {
      view.replaceChildren(el("p", { className: "waiting" }, "Looking up " + SEAT + "\u2026"));
      return;
    }
    const parts = [el("h2", { className: "seat-title" }, name,
      seat && seat.region ? el("span", { className: "seat-region" }, " \u00b7 " + seat.region) : null)];
    if (status === "declared") {
      parts.push(el("p", { className: "headline seat-headline", style: colours(seat.winner, seat.winner_colour),
                           "aria-label": spoken(seat) }, headline(seat)));
      const facts = [];
      if (seat.declared_at_ms) facts.push("Declared " + clock(seat.declared_at_ms));
      if (seat.kind !== "rush") {
        facts.push(el("span", {}, "Majority ", el("strong", { "data-majority": seat.majority }, number(seat.majority)),
          seat.majority_change !== undefined && seat.majority_change !== null
            ? el("span", { "data-majority-change": seat.majority_change, className: trend(seat.majority_change) },
                 " (" + signed(seat.majority_change, 0).replace(/\d+/, (d) => number(d)) + ")") : null));
        facts.push("Turnout " + percent(seat.turnout));
      }
      if (seat.swing && seat.swing.from && seat.swing.to)
        facts.push(el("span", { "data-swing": seat.swing.points },
          "Swing " + party(seat.swing.from).name + " to " + party(seat.swing.to).name + " "
          + Number(seat.swing.points).toFixed(1) + " points"));
      parts.push(el("p", { className: "card-facts" }, ...facts.flatMap((f, i) => (i ? [" \u00b7 ", f] : [f]))));
      parts.push(seat.kind === "rush" ? el("p", { className: "card-facts" }, "Figures to follow")
        : candidatesTable(seat, 12));
    } else {
      parts.push(el("p", { className: "notice" }, status === "withdrawn" ? "Result withdrawn: awaiting a new declaration"
        : "Not declared yet"));
      const projected = (seat && seat.projected_winner) || (model.all.get(SEAT) || {}).projected_winner;
      if (projected)
        parts.push(el("p", { className: "projected", "data-projected": projected },
          "Projected winner: ", partyLabel(projected, seat && seat.projected_winner_name)));
    }
    const previous = seat && seat.previous;
    if (previous && previous.winner) {
      parts.push(el("h3", { className: "panel-title" }, "Previous result"));
      parts.push(el("p", { className: "previous", "data-previous-winner": previous.winner },
        partyLabel(previous.winner, previous.winner_name), " won, majority ", number(previous.majority),
        previous.turnout !== null && previous.turnout !== undefined ? " \u00b7 turnout " + percent(previous.turnout) : ""));
      parts.push(el("table", { className: "candidates previous-shares" }, ...(previous.shares || []).map((s) =>
        el("tr", { "data-party": s.party, "data-share": s.share, style: colours(s.party, s.colour) },
          el("td", { className: "cand-party" }, partyLabel(s.party, s.name)),
          el("td", {}, percent(s.share))))));
    }
    view.replaceChildren(...parts);
  }

  // -------------------------------------------------- status and frame

  function drawConnection() {
    const seconds = Math.max(0, Math.ceil((model.retryAt - Date.now()) / 1000));
    const again = model.retryAt > Date.now() ? " Trying again in " + seconds + " s\u2026" : " Still trying\u2026";
    const where = api ? " at " + api : "";
    const texts = {
      connecting: "Connecting to the results server" + where + "\u2026",
      noanswer: "No answer from the results server" + where + "." + again,
      full: "The results server is full: too many viewers at once." + again,
      unreachable: "Cannot reach the results server" + where + "." + again,
      error: "The results server" + where + " answered HTTP " + model.httpStatus + "." + again
    };
    const line = document.getElementById("connection");
    line.hidden = model.connection === "open" && model.ready;
    line.textContent = texts[model.connection] || texts.connecting;
    line.dataset.error = String(model.connection !== "open" && model.connection !== "connecting");
    line.setAttribute("role", line.dataset.error === "true" ? "alert" : "status");
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
      : !model.upstreamOk ? (model.staleSource === "aggregator" ? "new results are not being recorded upstream"
                             : "the results feed has gone quiet")
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
    const summary = scopeSummary() || { declared: 0, seats_total: 0, majority_line: 0, parties: [] };
    const missing = document.getElementById("scope-missing");
    missing.hidden = !(SCOPE && model.ready && !scopeSummary());
    missing.textContent = "No region or nation called \u201c" + SCOPE + "\u201d. Known: "
      + Array.from(model.regions.keys()).sort().join(", ");
    if (SCOPE && scopeSummary() && !params.get("title"))
      document.getElementById("title").textContent = SCOPE;
    document.getElementById("declared").textContent = summary.declared;
    document.getElementById("declared").dataset.declared = summary.declared;
    document.getElementById("seats-total").textContent = summary.seats_total;
    document.getElementById("seats-total").dataset.seatsTotal = summary.seats_total;
    drawBar(summary);
    drawNational(summary);
    drawParliament();
    drawProjection();
    drawLatest();
    drawGains();
    drawHexmap();
    drawSeat();
    document.getElementById("home-link").hidden = !SEAT && !SCOPE;
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

  // A link to another view of this page, keeping ?api, ?theme, ?layout, ?bg
  function link(change) {
    const next = new URLSearchParams();
    for (const key of ["api", "theme", "layout", "bg", "title"])
      if (params.get(key)) next.set(key, params.get(key));
    for (const [key, value] of Object.entries(change))
      if (value) next.set(key, value);
    return "?" + next.toString();
  }

  document.getElementById("search").addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = document.getElementById("search-input").value.trim().toLowerCase();
    if (!wanted || !hexmap.hexes) return;
    const entries = Object.entries(hexmap.hexes);
    const found = entries.find(([id, h]) => h.n.toLowerCase() === wanted || id.toLowerCase() === wanted)
      || entries.find(([, h]) => h.n.toLowerCase().startsWith(wanted))
      || entries.find(([, h]) => h.n.toLowerCase().includes(wanted));
    if (found) location.search = link({ seat: found[0] });
    else document.getElementById("search-input").setCustomValidity("No seat called that"),
         document.getElementById("search-input").reportValidity();
  });
  document.getElementById("search-input").addEventListener("input", (event) => event.target.setCustomValidity(""));

  // ---------------------------------------------------------------- stream
  //
  // The publisher's own gateway starts every stream with a `state` event;
  // nginx (nchan) sends events only. So the page fetches GET /state itself
  // when the first thing it hears is not a state, when a sequence is
  // missing (events were lost), and when told `resync`; events that arrive
  // meanwhile wait, and those the state already holds are skipped.

  const stream = { source: null, failures: 0, load: null, pending: [], probing: false };

  // Applies an update that comes in order; false if one is missing before it
  function deliver(kind, update) {
    // A projection the aggregator held back (its cost rule) comes later
    // under the sequence already published, with the projected winners it
    // changed: news, though its sequence is not
    const late = update.sequence === model.sequence
      && (kind === "projection" || (kind === "seat" && update.seat && !update.seat.declared));
    if (update.sequence <= model.sequence && !late)
      return true;                  // the state already holds it
    if (update.sequence > model.sequence + 1)
      return false;                 // the national update of a sequence in between never came
    if (kind === "seat") onSeat(update);
    else if (kind === "national" || kind === "region" || kind === "country") onNational(update);
    else if (kind === "projection") onProjection(update);
    // desk (and any other kind): nothing on this screen shows it
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

  // Why nothing comes: asks the server (HEAD /events) and says what it
  // answered, or that it did not; the answer decides the wait before the next try
  async function probe() {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 1500);
    let retryAfter = 0;
    try {
      const response = await fetch(api + "/events", { method: "HEAD", cache: "no-store", signal: abort.signal });
      model.httpStatus = response.status;
      if (response.status === 503) {
        model.connection = "full";
        retryAfter = Number(response.headers.get("Retry-After")) || 0;
      } else if (!response.ok) {
        model.connection = "error";
      } else if (!model.ready) {
        model.connection = model.connected ? "open" : "noanswer";
      }
    } catch (error) {
      model.connection = abort.signal.aborted ? "noanswer" : "unreachable";
    }
    clearTimeout(timer);
    return retryAfter;
  }

  // Why the stream was refused, and when to try again: after the server's
  // Retry-After, or a wait that doubles up to 30 s; spread out, so that the
  // viewers of a full server do not all come back in the same second
  async function retry(source) {
    source.close();
    stream.failures++;
    let wait = Math.min(1000 * 2 ** (stream.failures - 1), 30000);
    wait = Math.max(wait, 1000 * await probe());
    wait *= 0.75 + Math.random() / 2;
    model.retryAt = Date.now() + wait;
    drawStatus();
    setTimeout(connect, wait);
  }

  // Not showing the night yet: say why rather than sit on "Connecting"
  async function diagnose() {
    if (stream.probing || model.ready) return;
    stream.probing = true;
    await probe();
    stream.probing = false;
    if (!model.ready && model.connection === "connecting")
      model.connection = "noanswer";
    drawStatus();
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
    for (const kind of ["seat", "region", "country", "national", "projection", "desk"])
      listen(source, kind, (update) => onUpdate(kind, update));
    for (const kind of ["health", "heartbeat"])
      listen(source, kind, (update) => {
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
      else if (!model.ready)
        diagnose();         // refused, or no such server: said at once
      else
        model.connection = "connecting";
      schedule();
    };
  }

  connect();
  // Said at once, then refined by asking the server why
  setTimeout(() => {
    if (model.ready) return;
    if (model.connection === "connecting") model.connection = "noanswer";
    drawStatus();
    diagnose();
  }, NO_ANSWER_MS);
  setInterval(drawStatus, 1000);
})();
