// The report page: where (context, pin, stop or route), why (categories), when, and an
// optional description; then one POST with an Idempotency-Key and a receipt. Every text that
// comes from the API is put in the page with textContent, never as HTML.

import { ApiError, OfflineError, getJSON, newIdempotencyKey, postReport } from "./api.js";
import { createCombobox } from "./combobox.js";
import { LANG, t, tn } from "./i18n.js";
import { createMap } from "./map.js";
import { WhenError, bandStarted, dayLimits, occurredAt } from "./when.js";
import { announceSaved, saveForLater, startOffline } from "./offline.js";

const MAX_CATEGORIES = 6;
const NEARBY_RADIUS_M = 800;
const NEARBY_LIMIT = 8;
const GROUP_LABELS = {
  environment: t("The place"),
  behaviour: t("Someone’s behaviour"),
  transport: t("The service"),
  other: t("Something else"),
};
const CONTEXT_LABELS = {
  street: t("On a street or in a public place"),
  at_stop: t("At a stop or station"),
  on_vehicle: t("On a bus, tram or train"),
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
  basemap: form.dataset,
  view: form.dataset.view,
  onPin: pinMoved,
  onMove: debounce(() => {
    if (!state.pin && context() === "at_stop") refreshStops();
  }, 400),
  onStop: (id) => chooseStop(id, { fromMap: true }),
  onTilesFailed: () =>
    say("#pin-status", t("The background map could not load. You can still place the pin and choose stops.")),
});

function pinMoved(latlng, source) {
  state.pin = { lat: latlng.lat, lon: latlng.lng };
  clearFieldError("location");
  const where = `${state.pin.lat.toFixed(5)}, ${state.pin.lon.toFixed(5)}`;
  if (source === "stop") {
    say("#pin-status", t("Pin placed at the stop {name}.", { name: state.stop.name }));
    return;
  }
  if (state.stop) unchooseStop();
  const moved = t("Pin moved ({where}).", { where });
  const said = { keys: moved, drag: moved, centre: t("Pin placed at the map centre ({where}).", { where }),
    locate: t("Pin placed at your location ({where}).", { where }) };
  say("#pin-status", said[source] || t("Pin placed ({where}).", { where }));
  if (context() === "at_stop") refreshStopsSoon();
}

$("#pin-centre").addEventListener("click", () => {
  mapView.pinAtCentre();
  mapView.focusPin();
});

$("#locate").addEventListener("click", () => {
  if (!("geolocation" in navigator)) {
    say("#pin-status", t("This browser cannot share your location. Tap the map or choose a stop instead."));
    return;
  }
  say("#pin-status", t("Finding your location…"));
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
          ? t("Your location was not shared (the browser or you refused). Tap the map, place the pin at the map centre, or choose a stop instead.")
          : t("Your location could not be found. Tap the map, place the pin at the map centre, or choose a stop instead."),
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
  numberSteps();
}

// The questions shown are numbered 1, 2, 3... whichever of the stop and route steps is shown.
function numberSteps() {
  let number = 0;
  for (const step of form.querySelectorAll(".step")) {
    if (!step.hidden) step.querySelector(".step-no").textContent = String(++number);
  }
}

for (const radio of form.elements.context) radio.addEventListener("change", contextChanged);

// ---- step 3a: nearby stops --------------------------------------------------------------

async function refreshStops() {
  const around = state.pin || { lat: mapView.centre().lat, lon: mapView.centre().lng };
  $("#stop-list").setAttribute("aria-busy", "true");
  say("#stops-status", t("Finding stops nearby…"));
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
    say("#stops-status", lookupFailure(error, t("the stops nearby")));
    renderStops();
    return;
  }
  const count = state.stops.length;
  let text;
  if (state.pin) {
    text = count ? tn("{n} stop near the pin.", "{n} stops near the pin.", count)
      : t("No stops within {radius} m of the pin. Move the map or the pin.", { radius: NEARBY_RADIUS_M });
  } else {
    text = count ? tn("{n} stop near the middle of the map.", "{n} stops near the middle of the map.", count)
      : t("No stops within {radius} m of the middle of the map. Move the map or the pin.", { radius: NEARBY_RADIUS_M });
  }
  say("#stops-status", text);
  renderStops();
}

const refreshStopsLater = debounce(refreshStops, 300);

function refreshStopsSoon() {
  $("#stop-list").setAttribute("aria-busy", "true"); // busy from now until the list is redrawn
  refreshStopsLater();
}

// A mode as the page names it (the API's ids are English words).
function modeName(id) {
  const names = { bus: t("bus"), tram: t("tram"), metro: t("metro"), rail: t("rail"), ferry: t("ferry"), other: t("other") };
  return names[id] || id;
}

function stopDetails(properties) {
  const parts = [];
  if (properties.mode) parts.push(modeName(properties.mode));
  if (properties.distance_m !== undefined) parts.push(t("{distance} m away", { distance: Math.round(properties.distance_m) }));
  if (properties.routes && properties.routes.length) parts.push(t("routes {routes}", { routes: properties.routes.join(", ") }));
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
      throw new Error(lookupFailure(error, t("stops with that name")));
    }
  },
  describe: (feature) => ({ title: feature.properties.name, detail: foundStopDetails(feature.properties) }),
  choose: (feature) => {
    state.stops = [feature, ...state.stops.filter((item) => item.properties.id !== feature.properties.id)];
    chooseStop(feature.properties.id);
    say("#stop-q-status", t("{name} chosen; the pin is at the stop.", { name: feature.properties.name }));
  },
  announce: (text) => say("#stop-q-status", text),
});

function foundStopDetails(properties) {
  const parts = [];
  if (properties.locality) parts.push(properties.locality);
  if (properties.mode) parts.push(modeName(properties.mode));
  if (properties.code) parts.push(t("code {code}", { code: properties.code }));
  if (properties.distance_m !== null && properties.distance_m !== undefined) {
    const km = properties.distance_m / 1000;
    parts.push(km < 1 ? t("{distance} m away", { distance: Math.round(properties.distance_m) })
      : t("{distance} km away", { distance: km.toFixed(1) }));
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

// ---- step 3b: the route, found by number or any word of its name ----------------------

function mode() {
  return form.elements.mode.value;
}

function routeTitle(route) {
  return [route.short_name, route.long_name].filter(Boolean).join(" – ") || route.id;
}

const routeBox = createCombobox($("#route-q"), $("#route-q-list"), {
  suggest: async (text) => {
    const near = state.pin || { lat: mapView.centre().lat, lon: mapView.centre().lng };
    try {
      const found = await getJSON(api, "/transit/routes", {
        q: text,
        mode: mode(),
        near_lat: near.lat.toFixed(6),
        near_lon: near.lon.toFixed(6),
        limit: 10,
      });
      return Array.isArray(found) ? found : found.routes || [];
    } catch (error) {
      throw new Error(lookupFailure(error, t("routes")));
    }
  },
  describe: (route) => ({ title: routeTitle(route), detail: [route.mode && modeName(route.mode), route.feed].filter(Boolean).join(" · ") }),
  choose: (route) => {
    state.route = route;
    chooseRoute(route.id);
  },
  announce: (text) => say("#routes-status", text),
});

// Typing over a chosen route's name unchooses it: what the box shows is what is sent.
$("#route-q").addEventListener("input", () => {
  if (state.route && $("#route-q").value !== routeTitle(state.route)) unchooseRoute();
});
for (const radio of form.elements.mode) {
  radio.addEventListener("change", () => {
    if (state.route && state.route.mode && state.route.mode !== mode()) unchooseRoute();
    if ($("#route-q").value.trim()) routeBox.lookup();
  });
}

function unchooseRoute() {
  state.route = null;
  state.routeStops = [];
  mapView.clearRoute();
  renderRouteStops();
}

async function chooseRoute(id) {
  clearFieldError("transit.route_id");
  let collection;
  try {
    collection = await getJSON(api, `/transit/routes/${encodeURIComponent(id)}`);
  } catch (error) {
    say("#routes-status", lookupFailure(error, t("that route")));
    return;
  }
  if (!state.route || state.route.id !== id) return; // unchosen while it loaded
  mapView.drawRoute(collection);
  state.routeStops = routeStops(collection);
  renderRouteStops();
  say("#routes-status", t("Route {route} is shown on the map. Tap where it happened along it, or choose a stop below.",
    { route: routeTitle(state.route) }));
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
  select.replaceChildren(el("option", { value: "" }, t("Choose a stop")));
  state.routeStops.forEach((stop, index) => select.append(el("option", { value: String(index) }, stop.name)));
  $("#route-stop-wrap").hidden = state.routeStops.length === 0;
}

$("#route-stop").addEventListener("change", (event) => {
  const stop = state.routeStops[Number(event.target.value)];
  if (event.target.value === "" || !stop) return;
  mapView.placePin(L.latLng(stop.lat, stop.lon), "route-stop");
  say("#pin-status", t("Pin placed on the route at {name}. Move it if it happened between stops.", { name: stop.name }));
});

// ---- step 4: categories -----------------------------------------------------------------

async function loadCategories() {
  let categories;
  try {
    categories = await getJSON(api, "/categories");
  } catch (error) {
    say("#categories-status", `${lookupFailure(error, t("the list of reasons"))} ${t("Reload the page to try again.")}`);
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
  say("#description-count", t("{count} of {limit} characters", { count: $("#description").value.length, limit: 1000 }));
});

// ---- errors -----------------------------------------------------------------------------
// Every problem is shown at once: in a summary at the top, each with a link to its own
// question, and again beside that question (the GOV.UK error summary pattern). The words are
// the page's own, written for people: the API's messages name fields for developers.

// [field prefix, id of its error text, its step, the control a link to it focuses]
const FIELD_STEPS = [
  ["transit.stop_id", "transit-stop_id", "#step-stop", () => form.querySelector('input[name="stop"]:checked, input[name="stop"]') || $("#stop-q")],
  ["transit", "transit-route_id", "#step-route", () => $("#route-q")],
  ["location", "location", "#step-place", () => $("#map")],
  ["categories", "categories", "#step-categories", () => form.querySelector('input[name="categories"]')],
  ["occurred_at", "occurred_at", "#step-when", () => ($("#when-day-wrap").hidden ? form.querySelector('input[name="when"]:checked') : $("#when-day"))],
  ["description", "description", "#step-description", () => $("#description")],
  ["context", "context", "#step-context", () => form.querySelector('input[name="context"]:checked')],
];

function fieldStep(field) {
  if (!field) return null;
  for (const [prefix, id, step, control] of FIELD_STEPS) {
    if (field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`)) {
      if (prefix === "transit" && context() === "at_stop") return fieldStep("transit.stop_id");
      return { id, step, control };
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

function questionLink(target, message) {
  const link = el("a", { href: target.step }, message);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const control = target.control() || $(target.step);
    control.focus({ preventScroll: true });
    // The page keeps room for the sticky header above whatever it scrolls to (site.css).
    (control.closest(".step") || control).scrollIntoView({ block: "start" });
  });
  return link;
}

// problems: [{field, message}]; a problem without a field is said in the summary only.
function showProblems(title, problems, detail = null) {
  const box = $("#form-error");
  box.replaceChildren(el("h2", { class: "form-error-title" }, title));
  if (detail) box.append(el("p", {}, detail));
  const list = el("ul", { class: "form-error-list" });
  const steps = [...form.querySelectorAll(".step")];
  const order = ({ field }) => {
    const target = fieldStep(field);
    return target ? steps.indexOf($(target.step)) : -1; // a problem with no question first
  };
  for (const { field, message } of [...problems].sort((a, b) => order(a) - order(b))) {
    const target = setFieldError(field, message);
    const item = el("li");
    item.append(target ? questionLink(target, message) : document.createTextNode(message));
    list.append(item);
  }
  if (problems.length) box.append(list);
  box.hidden = false;
  box.focus();
}

function lookupFailure(error, what) {
  if (error instanceof OfflineError) return t("You seem to be offline, so {what} could not be loaded.", { what });
  if (error instanceof ApiError && error.status === 429) {
    return t("Too many requests just now; {what} could not be loaded. Wait a moment and try again.", { what });
  }
  return t("Sorry, {what} could not be loaded.", { what });
}

function waitText(seconds) {
  if (seconds === null || seconds === undefined) return t("a little while");
  if (seconds < 90) return tn("{n} second", "{n} seconds", seconds);
  const minutes = Math.ceil(seconds / 60);
  return minutes < 90 ? tn("{n} minute", "{n} minutes", minutes) : tn("{n} hour", "{n} hours", Math.ceil(minutes / 60));
}

// The API's refusal of one answer, as the question it is about and words for a person. The
// API answers in the page's language, so the phrases that tell its refusals apart come from
// the same catalogue as its messages (tests/test_i18n.py checks they stay in them).
function problemFromRefusal(error) {
  const text = error.message || "";
  const metres = (text.match(/(\d+(?:\.\d+)?) m\b/) || [])[1];
  if (error.field === "location" && context() === "on_vehicle") {
    if (text.includes(t("route within"))) {
      const kinds = {
        bus: t("There is no bus route within {metres} m of the pin. Choose the route, or move the pin onto it."),
        tram: t("There is no tram route within {metres} m of the pin. Choose the route, or move the pin onto it."),
        rail: t("There is no railway within {metres} m of the pin. Choose the route, or move the pin onto it."),
        metro: t("There is no metro line within {metres} m of the pin. Choose the route, or move the pin onto it."),
      };
      const message = kinds[mode()] || t("There is no route within {metres} m of the pin. Choose the route, or move the pin onto it.");
      return { field: "transit.route_id", message: message.replace("{metres}", metres || 100) };
    }
    if (text.includes(t("m from route"))) {
      return { field: "transit.route_id", message: t("The pin is too far from the route you chose. Check the route, or move the pin onto it.") };
    }
  }
  if (error.field === "location" && context() === "at_stop" && text.includes(t("stop within"))) {
    return { field: "transit.stop_id", message: t("There is no stop within {metres} m of the pin. Choose the stop, or say you were on a street or in a public place.", { metres: metres || 150 }) };
  }
  if (error.field === "transit.stop_id") return { field: error.field, message: t("That stop can no longer be chosen. Choose the stop again.") };
  if (error.field && error.field.startsWith("transit.route_id")) {
    return { field: "transit.route_id", message: t("That route can no longer be chosen. Choose another, or leave it empty to use the nearest route.") };
  }
  // Otherwise the API's own words, without the field names in brackets meant for developers.
  const plain = text.replace(/\s*\((?:[a-z_]+[.[])[^)]*\)/g, "").replace(/\b[a-z_]+\.[a-z_]+(?:\[\d+\])?:\s*/g, "");
  return { field: error.field, message: plain ? plain[0].toUpperCase() + plain.slice(1) : t("Please check this answer.") };
}

function showSendFailure(error) {
  const kept = t("What you entered is still here.");
  if (error instanceof OfflineError) {
    showProblems(t("Your report has not been sent: you seem to be offline."), [],
      `${kept} ${t("Press “Send report” again when you have a connection.")}`);
  } else if (error.status === 429) {
    showProblems(
      t("Your report has not been sent: too many reports have come from this connection in a short time."),
      [],
      `${kept} ${t("Please wait {wait}, then press “Send report” again.", { wait: waitText(error.retryAfterS) })}`,
    );
  } else if (error.status >= 400 && error.status < 500) {
    showProblems(t("Your report has not been sent: please check this answer."), [problemFromRefusal(error)]);
  } else {
    showProblems(t("Your report has not been sent: something went wrong on our side."), [],
      `${kept} ${t("Please try again in a minute.")}`);
  }
}

window.addEventListener("online", () => {
  if (!$("#form-error").hidden) say("#pin-status", t("You are back online. You can send your report now."));
});

// ---- submit -----------------------------------------------------------------------------

// The report's body, and every problem with the answers so far (all of them, not the first).
function buildReport() {
  const body = { context: context() };
  const problems = [];
  const problem = (field, message) => problems.push({ field, message });
  if (body.context === "at_stop" && state.stop) {
    body.transit = { stop_id: state.stop.id };
  } else if (body.context === "at_stop" && !state.pin) {
    problem("transit.stop_id", t("Choose the stop, or place the pin where it happened."));
  }
  if (body.context === "on_vehicle") {
    body.transit = state.route ? { route_id: state.route.id, mode: state.route.mode || mode() } : { mode: mode() };
    if (!state.route && $("#route-q").value.trim()) {
      problem("transit.route_id", t("Choose one of the suggested routes, or empty the route box to use the nearest route."));
    }
  }
  if (state.pin) body.location = { lat: Number(state.pin.lat.toFixed(6)), lon: Number(state.pin.lon.toFixed(6)) };
  else if (body.context !== "at_stop") problem("location", t("Place the pin where it happened."));
  const categories = chosenCategories();
  if (categories.length === 0) problem("categories", t("Choose at least one reason."));
  if (categories.length > MAX_CATEGORIES) problem("categories", tn("Choose at most {n} reason.", "Choose at most {n} reasons.", MAX_CATEGORIES));
  body.categories = categories;
  try {
    const at = occurredAt(form.elements.when.value, $("#when-day").value, Number($("#when-band").value));
    if (at) body.occurred_at = at;
  } catch (error) {
    if (!(error instanceof WhenError)) throw error;
    problem("occurred_at", error.message);
  }
  const description = $("#description").value.trim();
  if (description) body.description = description;
  return { body, problems };
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
  const { body, problems } = buildReport();
  if (problems.length) {
    const title = tn("Your report has not been sent yet: please check this answer.",
      "Your report has not been sent yet: please check these {n} answers.", problems.length);
    showProblems(title, problems);
    return;
  }
  const key = idempotencyKeyFor(body);
  state.sending = true;
  $("#submit").disabled = true;
  $("#submit").textContent = t("Sending…");
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
    $("#submit").textContent = t("Send report");
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
  addDetail(details, t("Where you were"), CONTEXT_LABELS[receipt.context] || receipt.context);
  if (snapped.stop) {
    addDetail(details, t("Stop"), t("{name} ({distance} m from the pin)",
      { name: snapped.stop.name, distance: Math.round(snapped.stop.distance_m) }));
  }
  if (snapped.route) {
    addDetail(details, t("Route"), snapped.route.short_name || snapped.route.id);
    if (snapped.route.between && snapped.route.between.length === 2) {
      addDetail(details, t("Between stops"), t("{first} and {second}",
        { first: snapped.route.between[0], second: snapped.route.between[1] }));
    }
  }
  if (snapped.point) addDetail(details, t("Place"), `${snapped.point.lat.toFixed(5)}, ${snapped.point.lon.toFixed(5)}`);
  addDetail(details, t("When"), new Date(receipt.occurred_at).toLocaleString(LANG === "cy" ? "cy-GB" : "en-GB",
    { dateStyle: "medium", timeStyle: "short" }));
  const labels = (receipt.categories || []).map((id) => state.categoryLabels.get(id) || id);
  addDetail(details, t("Why"), labels.join("; "));
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
  routeBox.close();
  $("#route-stop-wrap").hidden = true;
  say("#pin-status", t("No pin placed yet."));
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
