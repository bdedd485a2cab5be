// The report page: where (context, pin, stop or route), why (categories), when, and an
// optional description; then one POST with an Idempotency-Key and a receipt. Every text that
// comes from the API is put in the page with textContent, never as HTML.

import { ApiError, OfflineError, getJSON, newIdempotencyKey, postReport } from "./api.js";
import { createCombobox } from "./combobox.js";
import { createMap } from "./map.js";
import { WhenError, bandStarted, dayLimits, occurredAt } from "./when.js";
import { announceSaved, saveForLater, startOffline } from "./offline.js";

const MAX_CATEGORIES = 6;
const NEARBY_RADIUS_M = 800;
const NEARBY_LIMIT = 8;
const GROUP_LABELS = {
  environment: "The place",
  behaviour: "Someone’s behaviour",
  transport: "The service",
  other: "Something else",
};
const CONTEXT_LABELS = {
  street: "On a street or in a public place",
  at_stop: "At a stop or station",
  on_vehicle: "On a bus, tram or train",
};

const $ = (selector) => document.querySelector(selector);
const form = $("#report-form");
const api = form.dataset.api;

const state = {
  pin: null, // {lat, lon}
  stop: null, // {id, name, lat, lon}
  stops: [], // nearby stop features
  route: null, // {id, short_name, long_name, mode}
  routeStops: [], // [{id, name, lat, lon}]
  categoryLabels: new Map(),
  attempt: null, // {key, body}: kept while the same report is retried
  sending: false,
};

function el(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

function context() {
  return form.elements.context.value;
}

function say(selector, text) {
  $(selector).textContent = text;
}

function debounce(fn, waitMs) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), waitMs);
  };
}

// ---- the map and the pin ----------------------------------------------------------------

const mapView = createMap($("#map"), {
  tileUrl: form.dataset.basemapUrl,
  attribution: form.dataset.basemapAttribution,
  view: form.dataset.view,
  onPin: pinMoved,
  onMove: debounce(() => {
    if (!state.pin && context() === "at_stop") refreshStops();
  }, 400),
  onStop: (id) => chooseStop(id, { fromMap: true }),
  onTilesFailed: () =>
    say("#pin-status", "The background map could not load. You can still place the pin and choose stops."),
});

function pinMoved(latlng, source) {
  state.pin = { lat: latlng.lat, lon: latlng.lng };
  clearFieldError("location");
  const where = `${state.pin.lat.toFixed(5)}, ${state.pin.lon.toFixed(5)}`;
  if (source === "stop") {
    say("#pin-status", `Pin placed at the stop ${state.stop.name}.`);
    return;
  }
  if (state.stop) unchooseStop();
  const how = { keys: "moved", drag: "moved", centre: "placed at the map centre", locate: "placed at your location" };
  say("#pin-status", `Pin ${how[source] || "placed"} (${where}).`);
  if (context() === "at_stop") refreshStopsSoon();
}

$("#pin-centre").addEventListener("click", () => {
  mapView.pinAtCentre();
  mapView.focusPin();
});

$("#locate").addEventListener("click", () => {
  if (!("geolocation" in navigator)) {
    say("#pin-status", "This browser cannot share your location. Tap the map or choose a stop instead.");
    return;
  }
  say("#pin-status", "Finding your location…");
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const { latitude, longitude } = position.coords;
      mapView.placePin(L.latLng(latitude, longitude), "locate");
      mapView.map.setView([latitude, longitude], Math.max(mapView.map.getZoom(), 16));
    },
    (error) => {
      const refused = error.code === error.PERMISSION_DENIED;
      say(
        "#pin-status",
        refused
          ? "Your location was not shared (the browser or you refused). Tap the map, place the pin at the map centre, or choose a stop instead."
          : "Your location could not be found. Tap the map, place the pin at the map centre, or choose a stop instead.",
      );
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
});

// ---- step 1: context --------------------------------------------------------------------

function contextChanged() {
  const value = context();
  $("#step-stop").hidden = value !== "at_stop";
  $("#step-route").hidden = value !== "on_vehicle";
  if (value === "at_stop") {
    mapView.clearRoute();
    refreshStops();
  } else {
    mapView.clearStops();
    if (state.stop) unchooseStop();
  }
  if (value !== "on_vehicle") mapView.clearRoute();
  else if (state.route) chooseRoute(state.route.id);
}

for (const radio of form.elements.context) radio.addEventListener("change", contextChanged);

// ---- step 3a: nearby stops --------------------------------------------------------------

async function refreshStops() {
  const around = state.pin || { lat: mapView.centre().lat, lon: mapView.centre().lng };
  $("#stop-list").setAttribute("aria-busy", "true");
  say("#stops-status", "Finding stops nearby…");
  try {
    const collection = await getJSON(api, "/transit/stops/nearby", {
      lat: around.lat.toFixed(6),
      lon: around.lon.toFixed(6),
      radius_m: NEARBY_RADIUS_M,
      limit: NEARBY_LIMIT,
    });
    state.stops = collection.features || [];
  } catch (error) {
    state.stops = [];
    say("#stops-status", lookupFailure(error, "the stops nearby"));
    renderStops();
    return;
  }
  const where = state.pin ? "the pin" : "the middle of the map";
  say(
    "#stops-status",
    state.stops.length
      ? `${state.stops.length} stops near ${where}.`
      : `No stops within ${NEARBY_RADIUS_M} m of ${where}. Move the map or the pin.`,
  );
  renderStops();
}

const refreshStopsLater = debounce(refreshStops, 300);

function refreshStopsSoon() {
  $("#stop-list").setAttribute("aria-busy", "true"); // busy from now until the list is redrawn
  refreshStopsLater();
}

function stopDetails(properties) {
  const parts = [];
  if (properties.mode) parts.push(properties.mode);
  if (properties.distance_m !== undefined) parts.push(`${Math.round(properties.distance_m)} m away`);
  if (properties.routes && properties.routes.length) parts.push(`routes ${properties.routes.join(", ")}`);
  return parts.join(" · ");
}

function renderStops() {
  const list = $("#stop-list");
  // Keep a keyboard user's place: if a stop had focus, focus the same stop after redrawing.
  const focusedId = list.contains(document.activeElement) ? document.activeElement.value : null;
  list.replaceChildren();
  const selectedId = state.stop ? state.stop.id : null;
  for (const feature of state.stops) {
    const { id, name } = feature.properties;
    const input = el("input", { type: "radio", name: "stop", value: id });
    input.checked = id === selectedId;
    input.addEventListener("change", () => chooseStop(id));
    const text = el("span");
    text.append(el("span", { class: "choice-title" }, name));
    text.append(el("span", { class: "choice-detail" }, stopDetails(feature.properties)));
    const label = el("label", { class: "choice" });
    label.append(input, text);
    list.append(label);
    if (id === focusedId) input.focus();
  }
  list.setAttribute("aria-busy", "false");
  mapView.drawStops(state.stops, selectedId);
}

// A stop found by name or code joins the list (first), as if it were nearby.
createCombobox($("#stop-q"), $("#stop-q-list"), {
  suggest: async (text) => {
    const near = state.pin || { lat: mapView.centre().lat, lon: mapView.centre().lng };
    try {
      const found = await getJSON(api, "/transit/stops", {
        q: text,
        near_lat: near.lat.toFixed(6),
        near_lon: near.lon.toFixed(6),
        limit: 8,
      });
      return found.features || [];
    } catch (error) {
      throw new Error(lookupFailure(error, "stops with that name"));
    }
  },
  describe: (feature) => ({ title: feature.properties.name, detail: foundStopDetails(feature.properties) }),
  choose: (feature) => {
    state.stops = [feature, ...state.stops.filter((item) => item.properties.id !== feature.properties.id)];
    chooseStop(feature.properties.id);
    say("#stop-q-status", `${feature.properties.name} chosen; the pin is at the stop.`);
  },
  announce: (text) => say("#stop-q-status", text),
});

function foundStopDetails(properties) {
  const parts = [];
  if (properties.locality) parts.push(properties.locality);
  if (properties.mode) parts.push(properties.mode);
  if (properties.code) parts.push(`code ${properties.code}`);
  if (properties.distance_m !== null && properties.distance_m !== undefined) {
    const km = properties.distance_m / 1000;
    parts.push(km < 1 ? `${Math.round(properties.distance_m)} m away` : `${km.toFixed(1)} km away`);
  }
  return parts.join(" · ");
}

function chooseStop(id, { fromMap = false } = {}) {
  const feature = state.stops.find((item) => item.properties.id === id);
  if (!feature) return;
  const [lon, lat] = feature.geometry.coordinates;
  state.stop = { id, name: feature.properties.name, lat, lon };
  clearFieldError("transit.stop_id");
  mapView.placePin(L.latLng(lat, lon), "stop");
  renderStops();
  if (fromMap) {
    const input = [...form.elements.stop].find((item) => item.value === id);
    if (input) input.focus();
  }
}

function unchooseStop() {
  state.stop = null;
  for (const input of $("#stop-list").querySelectorAll("input")) input.checked = false;
  mapView.drawStops(state.stops, null);
}

// ---- step 3b: route search --------------------------------------------------------------

function mode() {
  return form.elements.mode.value;
}

const routeSearch = { key: "", query: "", seq: 0 };

async function searchRoutes() {
  const q = $("#route-q").value.trim();
  if (!q) {
    say("#routes-status", "Type a route number or name, then search.");
    return;
  }
  const near = state.pin || { lat: mapView.centre().lat, lon: mapView.centre().lng };
  // Typing and the Search button can ask twice for the same thing: answer once, and never
  // let an older answer replace a newer one (or a route the person has just chosen).
  const key = JSON.stringify([q, mode(), near.lat.toFixed(4), near.lon.toFixed(4)]);
  if (key === routeSearch.key) return;
  const seq = ++routeSearch.seq;
  routeSearch.key = key;
  routeSearch.query = JSON.stringify([q, mode()]);
  say("#routes-status", "Searching…");
  let routes;
  try {
    routes = await getJSON(api, "/transit/routes", {
      q,
      mode: mode(),
      near_lat: near.lat.toFixed(6),
      near_lon: near.lon.toFixed(6),
      limit: 10,
    });
  } catch (error) {
    if (seq !== routeSearch.seq) return;
    routeSearch.key = ""; // let the same search be tried again
    say("#routes-status", lookupFailure(error, "routes"));
    return;
  }
  if (seq !== routeSearch.seq) return;
  routes = Array.isArray(routes) ? routes : routes.routes || [];
  say("#routes-status", routes.length ? `${routes.length} routes found.` : `No ${mode()} routes start with “${q}”.`);
  renderRoutes(routes);
}

function routeTitle(route) {
  return [route.short_name, route.long_name].filter(Boolean).join(" – ") || route.id;
}

function renderRoutes(routes) {
  const list = $("#route-list");
  list.replaceChildren();
  for (const route of routes) {
    const input = el("input", { type: "radio", name: "route", value: route.id });
    input.checked = state.route !== null && state.route.id === route.id;
    input.addEventListener("change", () => {
      state.route = route;
      chooseRoute(route.id);
    });
    const text = el("span");
    text.append(el("span", { class: "choice-title" }, routeTitle(route)));
    text.append(el("span", { class: "choice-detail" }, [route.mode, route.feed].filter(Boolean).join(" · ")));
    const label = el("label", { class: "choice" });
    label.append(input, text);
    list.append(label);
  }
}

async function chooseRoute(id) {
  clearFieldError("transit.route_id");
  let collection;
  try {
    collection = await getJSON(api, `/transit/routes/${encodeURIComponent(id)}`);
  } catch (error) {
    say("#routes-status", lookupFailure(error, "that route"));
    return;
  }
  mapView.drawRoute(collection);
  state.routeStops = routeStops(collection);
  renderRouteStops();
  say("#routes-status", `Route ${routeTitle(state.route)} is shown on the map. Tap where it happened along it, or choose a stop below.`);
}

function routeStops(collection) {
  const seen = new Set();
  const stops = [];
  for (const feature of collection.features || []) {
    if (!feature.geometry || feature.geometry.type !== "Point") continue;
    const key = feature.properties.id || feature.properties.name;
    if (seen.has(key)) continue;
    seen.add(key);
    const [lon, lat] = feature.geometry.coordinates;
    stops.push({ id: feature.properties.id, name: feature.properties.name, lat, lon });
  }
  return stops;
}

function renderRouteStops() {
  const select = $("#route-stop");
  select.replaceChildren(el("option", { value: "" }, "Choose a stop"));
  state.routeStops.forEach((stop, index) => select.append(el("option", { value: String(index) }, stop.name)));
  $("#route-stop-wrap").hidden = state.routeStops.length === 0;
}

$("#route-stop").addEventListener("change", (event) => {
  const stop = state.routeStops[Number(event.target.value)];
  if (event.target.value === "" || !stop) return;
  mapView.placePin(L.latLng(stop.lat, stop.lon), "route-stop");
  say("#pin-status", `Pin placed on the route at ${stop.name}. Move it if it happened between stops.`);
});

$("#route-search").addEventListener("click", searchRoutes);
$("#route-q").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault(); // search, do not send the report
    searchRoutes();
  }
});
// Typing searches once the text (or the mode) differs from the last search's: a map that
// moved since (drawing a chosen route moves it) is no reason to search again and replace
// the list and its status under the person's choice.
const typedSearch = () => {
  const q = $("#route-q").value.trim();
  if (q && JSON.stringify([q, mode()]) !== routeSearch.query) searchRoutes();
};
$("#route-q").addEventListener("input", debounce(typedSearch, 400));
for (const radio of form.elements.mode) radio.addEventListener("change", () => $("#route-q").value.trim() && searchRoutes());

// ---- step 4: categories -----------------------------------------------------------------

async function loadCategories() {
  let categories;
  try {
    categories = await getJSON(api, "/categories");
  } catch (error) {
    say("#categories-status", `${lookupFailure(error, "the list of reasons")} Reload the page to try again.`);
    return;
  }
  const groups = new Map();
  for (const category of categories) {
    if (!groups.has(category.group)) groups.set(category.group, []);
    groups.get(category.group).push(category);
    state.categoryLabels.set(category.id, category.label);
  }
  const holder = $("#category-groups");
  holder.replaceChildren();
  for (const [group, items] of groups) holder.append(categoryGroup(group, items));
  say("#categories-status", "");
}

function categoryGroup(group, items) {
  const fieldset = el("fieldset", { class: "category-group" });
  fieldset.append(el("legend", {}, GROUP_LABELS[group] || group.replace(/_/g, " ")));
  const choices = el("div", { class: "choices" });
  for (const item of items) {
    const input = el("input", { type: "checkbox", name: "categories", value: item.id });
    input.addEventListener("change", () => clearFieldError("categories"));
    const label = el("label", { class: "choice" });
    label.append(input, el("span", {}, item.label));
    choices.append(label);
  }
  fieldset.append(choices);
  return fieldset;
}

function chosenCategories() {
  return [...form.querySelectorAll('input[name="categories"]:checked')].map((input) => input.value);
}

// ---- step 5: when -----------------------------------------------------------------------

function whenChanged() {
  const choice = form.elements.when.value;
  $("#when-day-wrap").hidden = choice !== "day";
  $("#when-band-wrap").hidden = choice === "now";
  const now = new Date();
  const limits = dayLimits(now);
  $("#when-day").min = limits.min;
  $("#when-day").max = limits.max;
  for (const option of $("#when-band").options) {
    option.disabled = choice === "today" && !bandStarted(Number(option.value), now);
  }
  if ($("#when-band").selectedOptions[0].disabled) {
    const started = [...$("#when-band").options].filter((option) => !option.disabled);
    $("#when-band").value = started[started.length - 1].value;
  }
  clearFieldError("occurred_at");
}

for (const radio of form.elements.when) radio.addEventListener("change", whenChanged);

// ---- step 6: description ----------------------------------------------------------------

$("#description").addEventListener("input", () => {
  say("#description-count", `${$("#description").value.length} of 1000 characters`);
});

// ---- errors -----------------------------------------------------------------------------

const FIELD_STEPS = [
  ["transit.stop_id", "transit-stop_id", "#step-stop"],
  ["transit", "transit-route_id", "#step-route"],
  ["location", "location", "#step-place"],
  ["categories", "categories", "#step-categories"],
  ["occurred_at", "occurred_at", "#step-when"],
  ["description", "description", "#step-description"],
  ["context", "context", "#step-context"],
];

function fieldStep(field) {
  if (!field) return null;
  for (const [prefix, id, step] of FIELD_STEPS) {
    if (field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`)) {
      if (prefix === "transit" && context() === "at_stop") return { id: "transit-stop_id", step: "#step-stop" };
      return { id, step };
    }
  }
  return null;
}

function setFieldError(field, message) {
  const target = fieldStep(field);
  if (!target) return null;
  const holder = document.getElementById(`error-${target.id}`);
  holder.textContent = message;
  holder.hidden = false;
  $(target.step).classList.add("has-error");
  return target;
}

function clearFieldError(field) {
  const target = fieldStep(field);
  if (!target) return;
  const holder = document.getElementById(`error-${target.id}`);
  holder.textContent = "";
  holder.hidden = true;
  $(target.step).classList.remove("has-error");
}

function clearAllErrors() {
  for (const [prefix] of FIELD_STEPS) clearFieldError(prefix);
  $("#form-error").hidden = true;
  $("#form-error").replaceChildren();
}

function showFormError(title, detail, field = null) {
  const box = $("#form-error");
  box.replaceChildren(el("p", { class: "form-error-title" }, title));
  if (detail) box.append(el("p", {}, detail));
  const target = field ? setFieldError(field, detail || title) : null;
  if (target) {
    const link = el("a", { href: target.step }, "Go to that question");
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const step = $(target.step);
      step.scrollIntoView({ block: "start" });
      const first = step.querySelector("input, select, textarea, button");
      if (first) first.focus();
    });
    const paragraph = el("p");
    paragraph.append(link);
    box.append(paragraph);
  }
  box.hidden = false;
  box.focus();
}

function lookupFailure(error, what) {
  if (error instanceof OfflineError) return `You seem to be offline, so ${what} could not be loaded.`;
  if (error instanceof ApiError && error.status === 429) {
    return `Too many requests just now; ${what} could not be loaded. Wait a moment and try again.`;
  }
  return `Sorry, ${what} could not be loaded.`;
}

function waitText(seconds) {
  if (seconds === null || seconds === undefined) return "a little while";
  if (seconds < 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return minutes < 90 ? `${minutes} minutes` : `${Math.ceil(minutes / 60)} hours`;
}

function showSendFailure(error) {
  const kept = "What you entered is still here.";
  if (error instanceof OfflineError) {
    showFormError("Your report has not been sent: you seem to be offline.", `${kept} Press “Send report” again when you have a connection.`);
  } else if (error.status === 429) {
    showFormError(
      "Your report has not been sent: too many reports have come from this connection in a short time.",
      `${kept} Please wait ${waitText(error.retryAfterS)}, then press “Send report” again.`,
    );
  } else if (error.status >= 400 && error.status < 500) {
    showFormError("Your report has not been sent: please check one answer.", error.message, error.field);
  } else {
    showFormError("Your report has not been sent: something went wrong on our side.", `${kept} Please try again in a minute.`);
  }
}

window.addEventListener("online", () => {
  if (!$("#form-error").hidden) say("#pin-status", "You are back online. You can send your report now.");
});

// ---- submit -----------------------------------------------------------------------------

class FormProblem extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

function buildReport() {
  const body = { context: context() };
  if (body.context === "at_stop" && state.stop) {
    body.transit = { stop_id: state.stop.id };
  } else if (body.context === "at_stop" && !state.pin) {
    throw new FormProblem("transit.stop_id", "Choose the stop, or place the pin where it happened.");
  }
  if (body.context === "on_vehicle") {
    body.transit = state.route ? { route_id: state.route.id, mode: state.route.mode || mode() } : { mode: mode() };
  }
  if (state.pin) body.location = { lat: Number(state.pin.lat.toFixed(6)), lon: Number(state.pin.lon.toFixed(6)) };
  else if (!body.transit || !body.transit.stop_id) throw new FormProblem("location", "Place the pin where it happened.");
  const categories = chosenCategories();
  if (categories.length === 0) throw new FormProblem("categories", "Choose at least one reason.");
  if (categories.length > MAX_CATEGORIES) throw new FormProblem("categories", `Choose at most ${MAX_CATEGORIES} reasons.`);
  body.categories = categories;
  try {
    const at = occurredAt(form.elements.when.value, $("#when-day").value, Number($("#when-band").value));
    if (at) body.occurred_at = at;
  } catch (error) {
    if (error instanceof WhenError) throw new FormProblem("occurred_at", error.message);
    throw error;
  }
  const description = $("#description").value.trim();
  if (description) body.description = description;
  return body;
}

function idempotencyKeyFor(body) {
  // The same report, sent again (a double tap, a retry after an error), keeps its key, so the
  // server stores it once; a changed report is a new submission with a new key.
  const text = JSON.stringify(body);
  if (!state.attempt || state.attempt.text !== text) state.attempt = { key: newIdempotencyKey(), text };
  return state.attempt.key;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (state.sending) return;
  clearAllErrors();
  let body;
  try {
    body = buildReport();
  } catch (error) {
    if (!(error instanceof FormProblem)) throw error;
    showFormError("Your report has not been sent yet: please check one answer.", error.message, error.field);
    return;
  }
  const key = idempotencyKeyFor(body);
  state.sending = true;
  $("#submit").disabled = true;
  $("#submit").textContent = "Sending…";
  try {
    const receipt = await postReport(api, body, key);
    state.attempt = null;
    showReceipt(receipt);
  } catch (error) {
    if (!(error instanceof ApiError || error instanceof OfflineError)) throw error;
    if (error instanceof OfflineError && (await saveForLater(body, key))) {
      state.attempt = null;
      $("#another").click(); // a fresh form; the saved report is listed below it
      await announceSaved();
      return;
    }
    showSendFailure(error);
  } finally {
    state.sending = false;
    $("#submit").disabled = false;
    $("#submit").textContent = "Send report";
  }
});

// ---- receipt ----------------------------------------------------------------------------

function receiptCode(receipt) {
  if (receipt.receipt_code) return receipt.receipt_code;
  const hex = String(receipt.id).replace(/[^0-9a-zA-Z]/g, "").toUpperCase();
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}`;
}

function addDetail(list, term, value) {
  if (!value) return;
  list.append(el("dt", {}, term), el("dd", {}, value));
}

function showReceipt(receipt) {
  const snapped = receipt.snapped || {};
  const details = $("#receipt-details");
  details.replaceChildren();
  addDetail(details, "Where you were", CONTEXT_LABELS[receipt.context] || receipt.context);
  if (snapped.stop) {
    addDetail(details, "Stop", `${snapped.stop.name} (${Math.round(snapped.stop.distance_m)} m from the pin)`);
  }
  if (snapped.route) {
    addDetail(details, "Route", snapped.route.short_name || snapped.route.id);
    if (snapped.route.between && snapped.route.between.length === 2) {
      addDetail(details, "Between stops", `${snapped.route.between[0]} and ${snapped.route.between[1]}`);
    }
  }
  if (snapped.point) addDetail(details, "Place", `${snapped.point.lat.toFixed(5)}, ${snapped.point.lon.toFixed(5)}`);
  addDetail(details, "When", new Date(receipt.occurred_at).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }));
  const labels = (receipt.categories || []).map((id) => state.categoryLabels.get(id) || id);
  addDetail(details, "Why", labels.join("; "));
  $("#receipt-code").textContent = receiptCode(receipt);
  $("#receipt").dataset.reportId = receipt.id;
  form.hidden = true;
  $("#receipt").hidden = false;
  $("#receipt").focus();
}

$("#another").addEventListener("click", () => {
  form.reset();
  Object.assign(state, { pin: null, stop: null, stops: [], route: null, routeStops: [], attempt: null });
  mapView.clearPin();
  mapView.clearStops();
  mapView.clearRoute();
  $("#route-list").replaceChildren();
  $("#route-stop-wrap").hidden = true;
  say("#pin-status", "No pin placed yet.");
  contextChanged();
  whenChanged();
  $("#receipt").hidden = true;
  form.hidden = false;
  $("h1").focus();
});

contextChanged();
whenChanged();
loadCategories();
startOffline({ apiBase: api, label: (id) => state.categoryLabels.get(id) || id });
