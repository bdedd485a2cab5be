// The team dashboard: every number comes from /api/v1/team/*; text is set with textContent only.
"use strict";

const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

// Messages in the page's language, from the server's gettext catalogue (the JSON block
// #messages): t("English", {name}) and tn(singular, plural, n, {...}); {name} is filled in.
const CATALOGUE = JSON.parse(document.getElementById("messages").textContent);
const LANG = CATALOGUE.lang;

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

function t(message, params = {}) {
  return fill(CATALOGUE.messages[message] || message, params);
}

function tn(singular, plural, n, params = {}) {
  const forms = CATALOGUE.plurals[singular];
  const text = forms ? forms[new Intl.PluralRules(LANG).select(n)] || forms.other : (n === 1 ? singular : plural);
  return fill(text, { n, ...params });
}
const state = { map: null, layers: null, charts: {}, clicked: null, corners: [], categoryLabels: {} };

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

// Leaflet renders a string tooltip as HTML; names come from imported feeds, so pass a node.
function textTip(text) {
  return el("span", text);
}

function say(message) {
  document.getElementById("status").textContent = message;
}

async function api(path, options = {}) {
  const headers = { Accept: "application/json", "Accept-Language": LANG, ...(options.headers || {}) };
  if (options.body) {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken;
  }
  const response = await fetch(path, { credentials: "same-origin", ...options, headers });
  if (response.status === 401) {
    window.location.assign(LANG === "cy" ? "/cy/team/login" : "/team/login");
    throw new Error("signed out");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || t("request failed ({status})", { status: response.status }));
  return body;
}

function filterQuery() {
  const form = document.getElementById("filters");
  const params = new URLSearchParams();
  for (const name of ["neighbourhood", "from", "to", "hours", "context", "mode"]) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, value);
  }
  const days = [...form.querySelectorAll('input[name="days"]:checked')].map((box) => box.value);
  if (days.length) params.set("days", days.join(","));
  const categories = [...form.elements.categories.selectedOptions].map((option) => option.value);
  if (categories.length) params.set("categories", categories.join(","));
  return params;
}

function initMap() {
  const node = document.getElementById("map");
  state.map = L.map(node, { keyboard: true, zoomControl: false }).setView([53.744, -0.34], 13);
  L.control.zoom({ zoomInTitle: t("Zoom in"), zoomOutTitle: t("Zoom out") }).addTo(state.map);
  const ground = window.streetsafeBasemap.basemapLayer(node.dataset);
  if (ground) ground.addTo(state.map);
  state.layers = L.layerGroup().addTo(state.map);
  state.actionLayer = L.layerGroup().addTo(state.map);
  state.draftLayer = L.layerGroup().addTo(state.map);
  state.map.on("click", (event) => {
    if (placeKind() === "polygon") {
      state.corners.push(event.latlng);
    } else {
      state.clicked = event.latlng;
      say(t("Action place set to {lat}, {lon}", { lat: event.latlng.lat.toFixed(5), lon: event.latlng.lng.toFixed(5) }));
    }
    drawDraft();
  });
}

function colourFor(count, max) {
  const share = max ? count / max : 0;
  const shades = ["#fde0c5", "#facba6", "#f8b58b", "#f59e72", "#f2855d", "#ef6a4c", "#eb4a40"];
  return shades[Math.min(shades.length - 1, Math.floor(share * shades.length))];
}

// The route-segments layer names its route and stops `route`, `from_stop` and `to_stop`.
function segmentName(p) {
  const route = p.route ? t("route {name}", { name: p.route }) : t("route");
  return `${route}: ${p.from_stop} → ${p.to_stop}`;
}

function categoryLabel(id) {
  return state.categoryLabels[id] || id.replaceAll("_", " ");
}

function drawLayers(cells, stops, segments, areas) {
  state.layers.clearLayers();
  const outline = L.geoJSON(areas, { style: { color: "#1d3557", weight: 2, fill: false } });
  outline.addTo(state.layers);
  const max = Math.max(1, ...cells.features.map((f) => f.properties.count));
  L.geoJSON(cells, {
    style: (f) => ({
      color: f.properties.hotspot ? "#7b1c1c" : "#555",
      weight: f.properties.hotspot ? 4 : 1,
      fillColor: colourFor(f.properties.count, max),
      fillOpacity: 0.6,
    }),
    onEachFeature: (f, layer) => layer.bindTooltip(textTip(
      tn("{n} report", "{n} reports", f.properties.count) + (f.properties.hotspot ? ` · ${t("hotspot")}` : ""))),
  }).addTo(state.layers);
  L.geoJSON(segments, {
    style: { color: "#264653", weight: 5, opacity: 0.8 },
    onEachFeature: (f, layer) => layer.bindTooltip(textTip(
      `${segmentName(f.properties)}: ${f.properties.count}`)),
  }).addTo(state.layers);
  L.geoJSON(stops, {
    pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 6, color: "#2a9d8f", weight: 2 }),
    onEachFeature: (f, layer) => layer.bindTooltip(textTip(`${f.properties.name}: ${f.properties.count}`)),
  }).addTo(state.layers);
  if (outline.getBounds().isValid()) state.map.fitBounds(outline.getBounds(), { padding: [10, 10] });
}

function drawRanked(stops, segments) {
  const rows = [
    ...stops.features.map((f) => [f.properties.name, t("stop"), f.properties.count]),
    ...segments.features.map((f) => [
      segmentName(f.properties),
      t("route segment"), f.properties.count]),
  ].sort((a, b) => b[2] - a[2]).slice(0, 15);
  const body = document.querySelector("#ranked tbody");
  body.replaceChildren(...rows.map((row) => {
    const tr = el("tr");
    row.forEach((value) => tr.append(el("td", value)));
    return tr;
  }));
  if (!rows.length) {
    const empty = el("tr");
    empty.append(el("td", t("No reports match these filters."), { colspan: "3" }));
    body.append(empty);
  }
}

function drawInsights(summary) {
  const list = document.getElementById("insights");
  const change = summary.change === null ? t("no earlier reports to compare")
    : tn("{change}% on the previous {n} day", "{change}% on the previous {n} days", summary.period.days,
      { change: `${summary.change >= 0 ? "+" : ""}${Math.round(summary.change * 100)}` });
  const share = summary.transport_share === null ? "–" : `${Math.round(summary.transport_share * 100)}%`;
  const peaks = summary.peak_hours.map((p) => `${String(p.hour).padStart(2, "0")}:00 (${p.count})`).join(", ") || "–";
  const items = [
    [t("Reports, {from} to {to}", { from: summary.period.from, to: summary.period.to }), `${summary.count} (${change})`],
    [t("At a stop or on a vehicle"), share],
    [t("Peak times of day"), peaks],
  ];
  list.replaceChildren(...items.flatMap(([term, value]) => [el("dt", term), el("dd", value)]));
}

function drawChart(id, type, labels, data, label) {
  if (state.charts[id]) state.charts[id].destroy();
  state.charts[id] = new Chart(document.getElementById(id), {
    type,
    data: { labels, datasets: [{ label, data, backgroundColor: "#e76f51", borderColor: "#264653" }] },
    options: { animation: false, responsive: true, plugins: { legend: { display: false } },
      indexAxis: type === "bar" ? "y" : "x", scales: { y: { beginAtZero: true } } },
  });
}

const LAYER_NAMES = { cells: t("cells"), stops: t("stops"), "route-segments": t("route-segments") };

function drawDownloads(params) {
  const list = document.getElementById("downloads");
  const links = [];
  for (const layer of ["cells", "stops", "route-segments"]) {
    for (const format of ["geojson", "csv", "gpkg"]) {
      const query = new URLSearchParams(params);
      query.set("format", format);
      links.push([t("Hotspot {layer} ({format})", { layer: LAYER_NAMES[layer], format }), `/api/v1/team/hotspots/${layer}?${query}`]);
    }
  }
  for (const format of ["geojson", "csv", "gpkg"]) {
    const query = new URLSearchParams(params);
    query.set("format", format);
    links.push([t("Individual reports ({format})", { format }), `/api/v1/team/reports?${query}`]);
  }
  list.replaceChildren(...links.map(([text, href]) => {
    const item = el("li");
    item.append(el("a", text, { href, download: "" }));
    return item;
  }));
}

const KIND_NAMES = { lighting: t("Lighting"), cctv: t("CCTV"), patrol: t("Patrol"), staffing: t("Staffing"),
  environmental: t("Environmental"), outreach: t("Outreach"), other: t("Other") };

function placeWords(place) {
  if (place.kind === "stop") return t("stop {id}", { id: place.stop_id });
  if (place.kind === "segment") {
    return `${t("route {name}", { name: place.route_id })}: ${place.from_stop_id} → ${place.to_stop_id}`;
  }
  if (place.kind === "polygon") return t("an area drawn on the map");
  return t("a circle of {radius} m", { radius: Math.round(place.radius_m || 0) });
}

function actionWords(action) {
  const kind = KIND_NAMES[action.kind] || action.kind;
  const when = action.ended_on
    ? t("{kind} from {start} until {end}", { kind, start: action.started_on, end: action.ended_on })
    : t("{kind} from {start}", { kind, start: action.started_on });
  const dosage = action.dosage ? ` · ${action.dosage.amount} ${action.dosage.unit}` : "";
  return `${when} · ${placeWords(action.place)}${dosage}`;
}

function drawActionPlaces(actions) {
  state.actionLayer.clearLayers();
  for (const action of actions) {
    if (!action.geometry) continue;
    const area = L.geoJSON(JSON.parse(action.geometry), {
      style: { color: "#6a4c93", weight: 2, dashArray: "4 3", fillOpacity: 0.08 },
    }).addTo(state.actionLayer);
    const centre = area.getBounds().getCenter();
    L.marker(centre, { title: action.title, alt: action.title }).addTo(state.actionLayer)
      .bindTooltip(textTip(`${action.title}: ${actionWords(action)}`));
  }
}

async function loadActions() {
  const { actions } = await api("/api/v1/team/actions");
  drawActionPlaces(actions);
  fillList(document.getElementById("actions"), actions, t("No actions recorded yet."), (action) => {
    const item = el("li", null, { "data-action": action.id });
    item.append(el("strong", action.title), el("p", actionWords(action), { class: "meta" }));
    const verdict = el("p", action.verdict || null, { class: "verdict-line" });
    const show = el("button", t("Show effect"), { type: "button", class: "secondary" });
    show.addEventListener("click", () => showEffect(action, verdict));
    const remove = el("button", t("Delete"), { type: "button", class: "secondary" });
    remove.addEventListener("click", async () => {
      if (!window.confirm(t('Delete the action "{title}"?', { title: action.title }))) return;
      await api(`/api/v1/team/actions/${action.id}`, { method: "DELETE", body: "{}" });
      await Promise.all([loadActions(), loadAudit()]);
    });
    item.append(verdict, show, document.createTextNode(" "), remove);
    if (action.public) item.append(publication(action));
    return item;
  });
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

function beforeAfter(counts) {
  return t("{before} before, {after} after", { before: counts.before, after: counts.after });
}

function drawFigures(impact) {
  const did = impact.did;
  const items = [
    [t("Reports in the place"), beforeAfter(impact.response)],
    [t("In the ring of {radius} m", { radius: Math.round(impact.buffer_m) }), beforeAfter(impact.buffer)],
    [t("In the comparison area"), beforeAfter(impact.control)
      + (impact.control.neighbourhood ? ` (${impact.control.neighbourhood})`
        : ` (${tn("{n} similar hexagon", "{n} similar hexagons", impact.control.cells.length)})`)],
    [t("Rate ratio against the comparison area"), did
      ? `${did.rate_ratio.toFixed(2)} (95% CI ${did.ci_low.toFixed(2)}–${did.ci_high.toFixed(2)}, p = ${did.p.toFixed(3)}, ${did.model.replace("_", " ")})`
      : impact.did_reason],
    [t("Weighted displacement difference"), impact.wdd.se === null ? "–"
      : `${impact.wdd.estimate} (z = ${impact.wdd.z.toFixed(2)}, p = ${impact.wdd.p.toFixed(3)})`],
    [t("Weighted displacement quotient"), impact.wdq === null ? impact.wdq_reason : impact.wdq.toFixed(2)],
  ];
  document.getElementById("figures").replaceChildren(
    ...items.flatMap(([term, value]) => [el("dt", term), el("dd", value)]));
}

// Chart.js has no built-in marker for one x value: this plugin draws the start as a line.
const startLine = {
  id: "startLine",
  afterDatasetsDraw(chart, _args, options) {
    const x = chart.scales.x.getPixelForValue(options.index);
    const { top, bottom } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.strokeStyle = "#1b1b1b";
    ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, bottom);
    ctx.stroke();
    ctx.fillText(t("start"), x + 4, top + 10);
    ctx.restore();
  },
};

function drawEvaluationChart(impact) {
  const before = impact.response.weekly_before.length;
  const started = new Date(`${impact.action.started_on}T00:00:00Z`);
  const weeks = before + impact.response.weekly_after.length;
  const labels = Array.from({ length: weeks }, (_, i) => new Date(started.getTime()
    + (i - before) * 7 * 86400000).toISOString().slice(0, 10));
  const series = (area, colour) => ({
    label: { response: t("The place"), buffer: t("Ring of {radius} m", { radius: Math.round(impact.buffer_m) }),
      control: t("Comparison area") }[area],
    data: [...impact[area].weekly_before, ...impact[area].weekly_after],
    borderColor: colour, backgroundColor: colour, tension: 0.2,
  });
  if (state.charts.evaluation) state.charts.evaluation.destroy();
  state.charts.evaluation = new Chart(document.getElementById("evaluation-chart"), {
    type: "line",
    data: { labels, datasets: [series("response", "#e76f51"), series("buffer", "#2a9d8f"), series("control", "#264653")] },
    options: { animation: false, responsive: true, scales: { y: { beginAtZero: true } },
      plugins: { startLine: { index: before } } },
    plugins: [startLine],
  });
}

async function showEffect(action, verdictLine) {
  try {
    const impact = await api(`/api/v1/team/actions/${action.id}/impact`);
    verdictLine.textContent = impact.verdict;
    document.getElementById("evaluation").hidden = false;
    document.getElementById("evaluation-title").textContent = `${action.title}: ${actionWords(action)}`;
    document.getElementById("verdict").textContent = impact.verdict;
    drawFigures(impact);
    drawEvaluationChart(impact);
    document.getElementById("evaluation-csv").href = `/api/v1/team/actions/${action.id}/impact?format=csv`;
    document.getElementById("evaluation-png").download = `streetsafe-action-${action.id}-chart.png`;
    await loadAudit();
  } catch (error) {
    verdictLine.textContent = t("Could not evaluate: {reason}", { reason: error.message });
  }
}

function placeKind() {
  return document.querySelector('input[name="place_kind"]:checked').value;
}

function showPlaceFields() {
  const kind = placeKind();
  for (const node of document.querySelectorAll("#action-form [data-for]")) node.hidden = node.dataset.for !== kind;
  drawDraft();
}

function drawDraft() {
  state.draftLayer.clearLayers();
  const kind = placeKind();
  if (kind === "circle" && state.clicked) {
    const radius = Number(document.querySelector('#action-form [name="radius_m"]').value) || 200;
    L.circle(state.clicked, { radius, color: "#6a4c93" }).addTo(state.draftLayer);
  }
  if (kind === "polygon" && state.corners.length) {
    L.polygon(state.corners, { color: "#6a4c93" }).addTo(state.draftLayer);
  }
  document.getElementById("corner-count").textContent = tn("{n} corner", "{n} corners", state.corners.length);
}

function fillPlaceChoices(stops, segments) {
  document.getElementById("stop-choice").replaceChildren(...stops.features.map((f) =>
    el("option", `${f.properties.name} (${f.properties.count})`, { value: f.properties.stop_id })));
  document.getElementById("segment-choice").replaceChildren(...segments.features.map((f) =>
    el("option", `${segmentName(f.properties)} (${f.properties.count})`, {
      value: JSON.stringify([f.properties.route_id, f.properties.from_stop_id, f.properties.to_stop_id]) })));
}

function placeOf(form) {
  const kind = placeKind();
  if (kind === "polygon") {
    if (state.corners.length < 3) throw new Error(t("click at least three corners of the area on the map"));
    const ring = state.corners.map((p) => [p.lng, p.lat]);
    return { type: "polygon", geometry: { type: "Polygon", coordinates: [[...ring, ring[0]]] } };
  }
  if (kind === "stop") {
    if (!form.elements.stop_id.value) throw new Error(t("no stop with reports to choose under these filters"));
    return { type: "stop", stop_id: form.elements.stop_id.value };
  }
  if (kind === "segment") {
    if (!form.elements.segment.value) throw new Error(t("no segment with reports to choose under these filters"));
    const [route_id, from_stop_id, to_stop_id] = JSON.parse(form.elements.segment.value);
    return { type: "segment", route_id, from_stop_id, to_stop_id };
  }
  const centre = state.clicked || state.map.getCenter();
  return { type: "circle", lon: centre.lng, lat: centre.lat, radius_m: Number(form.elements.radius_m.value) };
}

function actionBody(form) {
  const body = { kind: form.elements.kind.value, started_on: form.elements.started_on.value, place: placeOf(form) };
  if (form.elements.title.value.trim()) body.title = form.elements.title.value.trim();
  if (form.elements.ended_on.value) body.ended_on = form.elements.ended_on.value;
  if (form.elements.dosage_amount.value) {
    body.dosage = { amount: Number(form.elements.dosage_amount.value), unit: form.elements.dosage_unit.value.trim() };
  }
  if (form.elements.public.checked) {
    body.public = true;
    body.public_title = form.elements.public_title.value.trim();
    if (form.elements.public_text.value.trim()) body.public_text = form.elements.public_text.value.trim();
  }
  return body;
}

async function recordAction(event) {
  event.preventDefault();
  const form = event.target;
  const error = document.getElementById("action-error");
  error.textContent = "";
  try {
    await api("/api/v1/team/actions", { method: "POST", body: JSON.stringify(actionBody(form)) });
    form.reset();
    state.corners = [];
    state.clicked = null;
    showPlaceFields();
    say(t("Action recorded."));
    await Promise.all([loadActions(), loadModeration(), loadAudit()]);
  } catch (failure) {
    error.textContent = t("Could not record the action: {reason}", { reason: failure.message });
  }
}

const PUBLIC_STATUS = { pending: t("waiting for approval"), approved: t("shown"), rejected: t("not shown (rejected)") };

function publication(action) {
  const line = el("p", t('On receipts as "{title}": {status}',
    { title: action.public_title, status: PUBLIC_STATUS[action.public_status] || t("not shown") }), { class: "meta" });
  const withdraw = el("button", t("Withdraw from receipts"), { type: "button", class: "secondary" });
  withdraw.addEventListener("click", async () => {
    await api(`/api/v1/team/actions/${action.id}`, { method: "PATCH", body: JSON.stringify({ public: false }) });
    await Promise.all([loadActions(), loadModeration(), loadAudit()]);
  });
  line.append(document.createTextNode(" "), withdraw);
  return line;
}

// A list of items drawn by `itemOf`, or one line saying there is none.
function fillList(list, items, none, itemOf) {
  list.replaceChildren(...(items.length ? items.map(itemOf) : [el("li", none)]));
}

// Approve and Reject for one thing waiting for a moderator: POST the decision to `url`, say
// what happened in the item, then `afterwards(decision)`.
function decisionButtons(li, url, afterwards) {
  const outcomes = { approve: [t("Approve"), t("Approved."), t("Could not approve: {reason}")],
    reject: [t("Reject"), t("Rejected."), t("Could not reject: {reason}")] };
  for (const [decision, [label, done, failed]] of Object.entries(outcomes)) {
    const button = el("button", label, { type: "button", class: decision === "reject" ? "secondary" : "" });
    button.addEventListener("click", async () => {
      try {
        await api(url, { method: "POST", body: JSON.stringify({ decision }) });
      } catch (error) {
        li.append(el("p", fill(failed, { reason: error.message }), { class: "error", role: "alert" }));
        return;
      }
      li.replaceChildren(el("p", done));
      await afterwards(decision);
    });
    li.append(button);
  }
}

function drawPublications(actions) {
  fillList(document.getElementById("publications"), actions, t("Nothing waiting."), (item) => {
    const li = el("li", null, { "data-publication": item.action_id });
    li.append(el("strong", item.public_title));
    if (item.public_text) li.append(el("blockquote", item.public_text));
    decisionButtons(li, `/api/v1/team/actions/${item.action_id}/publication`,
      () => Promise.all([loadActions(), loadAudit()]));
    return li;
  });
}

async function loadModeration() {
  const { items, actions } = await api("/api/v1/team/moderation?status=pending");
  drawPublications(actions || []);
  fillList(document.getElementById("moderation"), items, t("Nothing waiting."), (item) => {
    const li = el("li", null, { "data-report": item.report_id });
    li.append(el("p", `${item.occurred_at.slice(0, 16).replace("T", " ")} · ${CONTEXT_NAMES[item.context] || item.context} · ${item.stop || item.route || ""}`, { class: "meta" }));
    li.append(el("blockquote", item.text));
    decisionButtons(li, `/api/v1/team/moderation/${item.report_id}`, (decision) => {
      if (decision === "approve") loadAll();
    });
    return li;
  });
}

function drawReports(reports) {
  const latest = reports.features.slice(0, 20);
  fillList(document.getElementById("reports"), latest, t("No reports match these filters."), (feature) => {
    const p = feature.properties;
    const item = el("li");
    const where = p.stop_name || (p.route_short_name ? t("route {name}", { name: p.route_short_name }) : p.neighbourhood);
    item.append(el("p", `${p.occurred_at.slice(0, 16).replace("T", " ")} · ${CONTEXT_NAMES[p.context] || p.context.replace("_", " ")} · ${where}`, { class: "meta" }));
    item.append(el("p", p.categories.map(categoryLabel).join(", ")));
    if (p.description) item.append(el("blockquote", p.description));
    return item;
  });
}

async function loadAudit() {
  const { events } = await api("/api/v1/team/audit");
  document.getElementById("audit").replaceChildren(...events.slice(0, 30).map(
    (event) => el("li", `${event.at.slice(0, 19).replace("T", " ")} · ${event.summary}`)));
}

// Each load is numbered; a load that finishes after a newer one started draws nothing, so a
// slow answer to an old filter (or from before an approval) never replaces a newer one.
let latestLoad = 0;

async function loadAll() {
  const load = ++latestLoad;
  const params = filterQuery();
  say(t("Loading…"));
  try {
    const query = params.toString();
    const [cells, stops, segments, areas, insight, reports] = await Promise.all([
      api(`/api/v1/team/hotspots/cells?${query}`),
      api(`/api/v1/team/hotspots/stops?${query}`),
      api(`/api/v1/team/hotspots/route-segments?${query}`),
      api("/api/v1/team/neighbourhoods"),
      api(`/api/v1/team/insights?${params.get("neighbourhood") ? `neighbourhood=${encodeURIComponent(params.get("neighbourhood"))}` : ""}`),
      api(`/api/v1/team/reports?${query}`),
    ]);
    if (load !== latestLoad) return;
    drawLayers(cells, stops, segments, areas);
    drawRanked(stops, segments);
    fillPlaceChoices(stops, segments);
    drawReports(reports);
    drawInsights(insight.summary);
    drawChart("trend", "line", insight.trend.map((w) => w.week), insight.trend.map((w) => w.count), t("Reports"));
    const categories = Object.entries(insight.categories);
    drawChart("categories", "bar", categories.map(([c]) => categoryLabel(c)), categories.map(([, n]) => n), t("Reports"));
    drawDownloads(params);
    say([tn("{n} hexagon", "{n} hexagons", cells.features.length), tn("{n} stop", "{n} stops", stops.features.length),
      tn("{n} segment", "{n} segments", segments.features.length)].join(", ") + ".");
    document.getElementById("filter-error").textContent = "";
  } catch (error) {
    if (load !== latestLoad) return;
    say(t("Could not load: see the filters above."));
    document.getElementById("filter-error").textContent = t("Could not load: {reason}", { reason: error.message });
  }
  await Promise.all([loadActions(), loadModeration(), loadAudit()]).catch((error) => say(error.message));
}

const GROUP_NAMES = { environment: t("Environment"), behaviour: t("Behaviour"), transport: t("Transport"),
  other: t("Other") };
const CONTEXT_NAMES = { street: t("street"), at_stop: t("at a stop"), on_vehicle: t("on a vehicle") };

async function loadCategories() {
  const categories = await api("/api/v1/categories").catch(() => []);
  const select = document.getElementById("category-filter");
  const groups = new Map();
  for (const c of categories) {
    state.categoryLabels[c.id] = c.label;
    if (!groups.has(c.group)) {
      const name = GROUP_NAMES[c.group] || c.group;
      groups.set(c.group, el("optgroup", null, { label: name }));
    }
    groups.get(c.group).append(el("option", c.label, { value: c.id }));
  }
  select.replaceChildren(...groups.values());
}

document.addEventListener("DOMContentLoaded", async () => {
  initMap();
  document.getElementById("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadAll();
  });
  document.getElementById("action-form").addEventListener("submit", recordAction);
  for (const radio of document.querySelectorAll('input[name="place_kind"]')) radio.addEventListener("change", showPlaceFields);
  document.querySelector('#action-form [name="radius_m"]').addEventListener("input", drawDraft);
  document.getElementById("clear-corners").addEventListener("click", () => {
    state.corners = [];
    drawDraft();
  });
  document.getElementById("evaluation-png").addEventListener("click", (event) => {
    const link = event.currentTarget;
    if (link.dataset.ready) return;  // the second, synthetic click downloads the blob
    event.preventDefault();
    state.charts.evaluation.canvas.toBlob((blob) => {
      link.href = URL.createObjectURL(blob);
      link.dataset.ready = "1";
      link.click();
      delete link.dataset.ready;
    }, "image/png");
  });
  await loadCategories();
  await loadAll();
});
