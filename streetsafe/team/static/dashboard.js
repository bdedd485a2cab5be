// The team dashboard: every number comes from /api/v1/team/*; text is set with textContent only.
"use strict";

const csrfToken = document.querySelector('meta[name="csrf-token"]').content;
const state = { map: null, layers: null, charts: {}, clicked: null, categoryLabels: {} };

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
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (options.body) {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken;
  }
  const response = await fetch(path, { credentials: "same-origin", ...options, headers });
  if (response.status === 401) {
    window.location.assign("/team/login");
    throw new Error("signed out");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `request failed (${response.status})`);
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
  state.map = L.map(node, { keyboard: true }).setView([53.744, -0.34], 13);
  if (node.dataset.basemapUrl) {
    L.tileLayer(node.dataset.basemapUrl, {
      attribution: node.dataset.basemapAttribution || "", maxZoom: 19,
    }).addTo(state.map);
  }
  state.layers = L.layerGroup().addTo(state.map);
  state.map.on("click", (event) => {
    state.clicked = event.latlng;
    say(`Action place set to ${event.latlng.lat.toFixed(5)}, ${event.latlng.lng.toFixed(5)}`);
  });
}

function colourFor(count, max) {
  const share = max ? count / max : 0;
  const shades = ["#fde0c5", "#facba6", "#f8b58b", "#f59e72", "#f2855d", "#ef6a4c", "#eb4a40"];
  return shades[Math.min(shades.length - 1, Math.floor(share * shades.length))];
}

// The route-segments layer names its route and stops `route`, `from_stop` and `to_stop`.
function segmentName(p) {
  return `${p.route ? `route ${p.route}` : "route"}: ${p.from_stop} → ${p.to_stop}`;
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
      `${f.properties.count} reports${f.properties.hotspot ? " · hotspot" : ""}`)),
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
    ...stops.features.map((f) => [f.properties.name, "stop", f.properties.count]),
    ...segments.features.map((f) => [
      segmentName(f.properties),
      "route segment", f.properties.count]),
  ].sort((a, b) => b[2] - a[2]).slice(0, 15);
  const body = document.querySelector("#ranked tbody");
  body.replaceChildren(...rows.map((row) => {
    const tr = el("tr");
    row.forEach((value) => tr.append(el("td", value)));
    return tr;
  }));
  if (!rows.length) {
    const empty = el("tr");
    empty.append(el("td", "No reports match these filters.", { colspan: "3" }));
    body.append(empty);
  }
}

function drawInsights(summary) {
  const list = document.getElementById("insights");
  const change = summary.change === null ? "no earlier reports to compare"
    : `${summary.change >= 0 ? "+" : ""}${Math.round(summary.change * 100)}% on the previous ${summary.period.days} days`;
  const share = summary.transport_share === null ? "–" : `${Math.round(summary.transport_share * 100)}%`;
  const peaks = summary.peak_hours.map((p) => `${String(p.hour).padStart(2, "0")}:00 (${p.count})`).join(", ") || "–";
  const items = [
    [`Reports, ${summary.period.from} to ${summary.period.to}`, `${summary.count} (${change})`],
    ["At a stop or on a vehicle", share],
    ["Peak times of day", peaks],
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

function drawDownloads(params) {
  const list = document.getElementById("downloads");
  const links = [];
  for (const layer of ["cells", "stops", "route-segments"]) {
    for (const format of ["geojson", "csv", "gpkg"]) {
      const query = new URLSearchParams(params);
      query.set("format", format);
      links.push([`Hotspot ${layer} (${format})`, `/api/v1/team/hotspots/${layer}?${query}`]);
    }
  }
  for (const format of ["geojson", "csv", "gpkg"]) {
    const query = new URLSearchParams(params);
    query.set("format", format);
    links.push([`Individual reports (${format})`, `/api/v1/team/reports?${query}`]);
  }
  list.replaceChildren(...links.map(([text, href]) => {
    const item = el("li");
    item.append(el("a", text, { href, download: "" }));
    return item;
  }));
}

async function loadActions() {
  const { actions } = await api("/api/v1/team/actions");
  const list = document.getElementById("actions");
  list.replaceChildren(...actions.map((action) => {
    const item = el("li", `${action.started_on}: ${action.title} `);
    const button = el("button", "Show effect", { type: "button", class: "secondary" });
    button.addEventListener("click", async () => {
      const impact = await api(`/api/v1/team/actions/${action.id}/impact`);
      const result = el("p", `Mean reports per week: ${impact.mean_before ?? "–"} in the ${impact.weeks_before.length} weeks before, `
        + `${impact.mean_after ?? "–"} in the ${impact.weeks_after.length} weeks after.`);
      button.replaceWith(result);
    });
    item.append(button);
    return item;
  }));
}

async function loadModeration() {
  const { items } = await api("/api/v1/team/moderation?status=pending");
  const list = document.getElementById("moderation");
  if (!items.length) {
    list.replaceChildren(el("li", "Nothing waiting."));
    return;
  }
  list.replaceChildren(...items.map((item) => {
    const li = el("li", null, { "data-report": item.report_id });
    li.append(el("p", `${item.occurred_at.slice(0, 16).replace("T", " ")} · ${item.context} · ${item.stop || item.route || ""}`, { class: "meta" }));
    li.append(el("blockquote", item.text));
    for (const [decision, label] of [["approve", "Approve"], ["reject", "Reject"]]) {
      const button = el("button", label, { type: "button", class: decision === "reject" ? "secondary" : "" });
      button.addEventListener("click", async () => {
        await api(`/api/v1/team/moderation/${item.report_id}`, { method: "POST", body: JSON.stringify({ decision }) });
        li.replaceChildren(el("p", `${label}d.`));
        if (decision === "approve") loadAll();
      });
      li.append(button);
    }
    return li;
  }));
}

function drawReports(reports) {
  const list = document.getElementById("reports");
  const latest = reports.features.slice(0, 20);
  if (!latest.length) {
    list.replaceChildren(el("li", "No reports match these filters."));
    return;
  }
  list.replaceChildren(...latest.map((feature) => {
    const p = feature.properties;
    const item = el("li");
    const where = p.stop_name || (p.route_short_name ? `route ${p.route_short_name}` : p.neighbourhood);
    item.append(el("p", `${p.occurred_at.slice(0, 16).replace("T", " ")} · ${p.context.replace("_", " ")} · ${where}`, { class: "meta" }));
    item.append(el("p", p.categories.map(categoryLabel).join(", ")));
    if (p.description) item.append(el("blockquote", p.description));
    return item;
  }));
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
  say("Loading…");
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
    drawReports(reports);
    drawInsights(insight.summary);
    drawChart("trend", "line", insight.trend.map((w) => w.week), insight.trend.map((w) => w.count), "Reports");
    const categories = Object.entries(insight.categories);
    drawChart("categories", "bar", categories.map(([c]) => categoryLabel(c)), categories.map(([, n]) => n), "Reports");
    drawDownloads(params);
    say(`${cells.features.length} hexagons, ${stops.features.length} stops, ${segments.features.length} segments.`);
  } catch (error) {
    if (load !== latestLoad) return;
    say(`Could not load: ${error.message}`);
  }
  await Promise.all([loadActions(), loadModeration(), loadAudit()]).catch((error) => say(error.message));
}

async function loadCategories() {
  const categories = await api("/api/v1/categories").catch(() => []);
  const select = document.getElementById("category-filter");
  const groups = new Map();
  for (const c of categories) {
    state.categoryLabels[c.id] = c.label;
    if (!groups.has(c.group)) {
      const name = c.group.charAt(0).toUpperCase() + c.group.slice(1);
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
  document.getElementById("action-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const place = state.clicked || state.map.getCenter();
    try {
      await api("/api/v1/team/actions", {
        method: "POST",
        body: JSON.stringify({
          title: form.elements.title.value, started_on: form.elements.started_on.value,
          radius_m: Number(form.elements.radius_m.value), lon: place.lng, lat: place.lat,
        }),
      });
      form.reset();
      say("Action recorded.");
      await loadActions();
    } catch (error) {
      say(`Could not record the action: ${error.message}`);
    }
  });
  await loadCategories();
  await loadAll();
});
