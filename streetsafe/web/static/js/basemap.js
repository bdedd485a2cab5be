// The basemap both maps draw (the report page and the team dashboard), as data-basemap-* on
// the page says: a self-hosted PMTiles archive drawn by protomaps-leaflet (every byte comes
// from this service, in Range requests), or a remote tile URL whose tile requests send only
// this site's origin as the referrer (the page itself sends none).
// A classic script, so that the dashboard's classic script and the report page's modules
// share it: it defines window.streetsafeBasemap.

/* global L, protomapsL */
"use strict";

(() => {
  const COLOURS = {
    land: "#f3f1ec",
    area: "#e3ebf5",
    outline: "#3f5f8a",
    route: "#6d4fb3",
    stop: "#1f2937",
    label: "#1f2937",
    halo: "#ffffff",
  };

  // Our own archive's layers (`streetsafe demo-basemap`): neighbourhoods, routes, stops.
  function streetsafeRules(P) {
    const halo = { fill: COLOURS.label, stroke: COLOURS.halo, width: 3 };
    return {
      backgroundColor: COLOURS.land,
      paintRules: [
        { dataLayer: "neighbourhoods", symbolizer: new P.PolygonSymbolizer({ fill: COLOURS.area }) },
        {
          dataLayer: "neighbourhoods",
          symbolizer: new P.LineSymbolizer({ color: COLOURS.outline, width: 2, dash: [6, 4] }),
        },
        {
          dataLayer: "routes",
          symbolizer: new P.LineSymbolizer({
            color: (z, f) => (f && f.props.colour) || COLOURS.route,
            width: P.linear([[12, 1.5], [16, 4], [19, 7]]),
            opacity: 0.8,
          }),
        },
        {
          dataLayer: "stops",
          minzoom: 13,
          symbolizer: new P.CircleSymbolizer({
            radius: P.linear([[13, 2], [16, 4], [19, 6]]),
            fill: COLOURS.stop,
            stroke: COLOURS.halo,
            width: 1,
          }),
        },
      ],
      labelRules: [
        {
          dataLayer: "neighbourhood_labels",
          symbolizer: new P.CenteredTextSymbolizer({ labelProps: ["name"], font: "600 13px sans-serif", ...halo }),
        },
        {
          dataLayer: "routes",
          minzoom: 14,
          symbolizer: new P.LineLabelSymbolizer({ labelProps: ["short_name"], font: "600 11px sans-serif", ...halo }),
        },
        {
          dataLayer: "stops",
          minzoom: 15,
          symbolizer: new P.OffsetTextSymbolizer({
            labelProps: ["name"], font: "11px sans-serif", offsetX: 6, offsetY: 6, ...halo,
          }),
        },
      ],
    };
  }

  function pmtilesLayer(data, attribution) {
    const style = data.basemapStyle === "protomaps"
      ? { flavor: "light", lang: document.documentElement.lang.slice(0, 2) || "en" }
      : streetsafeRules(protomapsL);
    return protomapsL.leafletLayer({
      url: data.basemapPmtiles,
      attribution,
      maxDataZoom: Number(data.basemapMaxZoom) || 15,
      maxZoom: 19,
      ...style,
    });
  }

  function tileLayer(data, attribution, onTilesFailed) {
    const tiles = L.tileLayer(data.basemapUrl, {
      attribution,
      maxZoom: 19,
      detectRetina: false,
      // The page's Referrer-Policy is no-referrer; tile servers that refuse requests without
      // one (OpenStreetMap's) get the origin alone, never the page's path or query.
      referrerPolicy: "strict-origin-when-cross-origin",
    });
    let tileErrors = 0;
    tiles.on("tileerror", () => {
      tileErrors += 1;
      if (tileErrors === 1 && onTilesFailed) onTilesFailed();
    });
    return tiles;
  }

  // The basemap layer for an element's data-basemap-* attributes, or null when there is none.
  function basemapLayer(data, { onTilesFailed } = {}) {
    const attribution = data.basemapAttribution || "";
    if (data.basemapPmtiles) return pmtilesLayer(data, attribution);
    if (data.basemapUrl) return tileLayer(data, attribution, onTilesFailed);
    return null;
  }

  window.streetsafeBasemap = { basemapLayer };
})();
