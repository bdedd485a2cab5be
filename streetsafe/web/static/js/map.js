// The Leaflet map: the basemap (basemap.js; optional: the page works without it), the report
// pin, and the transit layer (nearby stops, a chosen route) drawn as vectors on any ground.

import { t } from "./i18n.js";

/* global L, streetsafeBasemap */

const PIN_STEP_PX = 10;
const PIN_BIG_STEP_PX = 50;
const ARROWS = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };

function parseView(text) {
  const [lon, lat, zoom] = text.split(",").map(Number);
  return { centre: [lat, lon], zoom };
}

export function createMap(element, { basemap, view, onPin, onMove, onStop, onTilesFailed }) {
  const map = L.map(element, { keyboard: true, zoomControl: false, tapHold: false });
  // Leaflet's own control, its buttons' names (what a screen reader says) in the page's language.
  L.control.zoom({ zoomInTitle: t("Zoom in"), zoomOutTitle: t("Zoom out") }).addTo(map);
  map.attributionControl.setPrefix(false);
  const ground = streetsafeBasemap.basemapLayer(basemap, { onTilesFailed });
  if (ground) ground.addTo(map);
  const openAt = parseView(view);
  map.setView(openAt.centre, openAt.zoom);

  const stopsLayer = L.layerGroup().addTo(map);
  const routeLayer = L.layerGroup().addTo(map);
  let pin = null;

  function movePinBy(dx, dy) {
    const point = map.latLngToContainerPoint(pin.getLatLng()).add([dx, dy]);
    const latlng = map.containerPointToLatLng(point);
    pin.setLatLng(latlng);
    if (!map.getBounds().pad(-0.1).contains(latlng)) map.panTo(latlng);
    onPin(latlng, "keys");
  }

  function onPinKey(event) {
    const arrow = ARROWS[event.key];
    if (!arrow || !pin) return;
    event.preventDefault();
    event.stopPropagation(); // otherwise Leaflet also pans the map
    const step = event.shiftKey ? PIN_BIG_STEP_PX : PIN_STEP_PX;
    movePinBy(arrow[0] * step, arrow[1] * step);
  }

  function placePin(latlng, source, { pan = true } = {}) {
    if (!pin) {
      pin = L.marker(latlng, {
        draggable: true,
        keyboard: true,
        autoPanOnFocus: true,
        alt: t("Report pin. Use the arrow keys to move it."),
        title: t("Report pin"),
      }).addTo(map);
      pin.on("dragend", () => onPin(pin.getLatLng(), "drag"));
      pin.getElement().addEventListener("keydown", onPinKey);
    } else {
      pin.setLatLng(latlng);
    }
    if (pan && !map.getBounds().contains(latlng)) map.panTo(latlng);
    onPin(pin.getLatLng(), source);
  }

  function clearPin() {
    if (pin) pin.remove();
    pin = null;
  }

  function drawStops(features, selectedId) {
    stopsLayer.clearLayers();
    for (const feature of features) {
      const [lon, lat] = feature.geometry.coordinates;
      const chosen = feature.properties.id === selectedId;
      const marker = L.circleMarker([lat, lon], {
        radius: chosen ? 10 : 7,
        color: "#ffffff",
        weight: 2,
        fillColor: chosen ? "#1d4ed8" : "#0f172a",
        fillOpacity: 1,
      });
      // A string tooltip is HTML to Leaflet; a stop name from a feed must stay text.
      marker.bindTooltip(escapeHtml(feature.properties.name));
      marker.on("click", (event) => {
        L.DomEvent.stopPropagation(event);
        onStop(feature.properties.id);
      });
      stopsLayer.addLayer(marker);
      marker.getElement().setAttribute("data-stop-id", feature.properties.id);
    }
  }

  function drawRoute(collection) {
    routeLayer.clearLayers();
    const lines = L.geoJSON(collection, {
      filter: (feature) => feature.geometry && feature.geometry.type !== "Point",
      interactive: false, // a tap on the line places the pin there
      style: () => ({ color: "#1d4ed8", weight: 5, opacity: 0.85 }),
    });
    const stops = L.geoJSON(collection, {
      filter: (feature) => feature.geometry && feature.geometry.type === "Point",
      pointToLayer: (feature, latlng) =>
        L.circleMarker(latlng, {
          interactive: false,
          radius: 5,
          color: "#1d4ed8",
          weight: 2,
          fillColor: "#ffffff",
          fillOpacity: 1,
        }),
    });
    routeLayer.addLayer(lines).addLayer(stops);
    stops.eachLayer((layer) => layer.getElement().setAttribute("data-stop-id", layer.feature.properties.id));
    const extent = lines.getBounds();
    if (extent.isValid()) map.fitBounds(extent, { padding: [16, 16] });
  }

  map.on("click", (event) => placePin(event.latlng, "map", { pan: false }));
  map.on("moveend", () => onMove(map.getCenter()));

  return {
    map,
    placePin,
    clearPin,
    drawStops,
    drawRoute,
    clearRoute: () => routeLayer.clearLayers(),
    clearStops: () => stopsLayer.clearLayers(),
    centre: () => map.getCenter(),
    pinAtCentre: () => placePin(map.getCenter(), "centre"),
    focusPin: () => pin && pin.getElement().focus(),
  };
}


// Text as HTML that shows exactly that text (for Leaflet, which takes strings as markup).
function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
