// Calls to the StreetSafe API. No cookies or referrer are ever sent; failures are typed so the
// page can say clearly what went wrong: offline, rate limited, or a named field was rejected.

export class OfflineError extends Error {
  constructor() {
    super("offline");
    this.name = "OfflineError";
  }
}

export class ApiError extends Error {
  constructor(status, body, retryAfterS) {
    super((body && body.message) || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = (body && body.error) || null;
    this.field = (body && body.field) || null;
    this.retryAfterS = retryAfterS;
  }
}

export function parseRetryAfter(value, now = Date.now()) {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

import { LANG } from "./i18n.js";

async function request(url, options = {}) {
  // Offline, a GET may still be answered by the service worker's kept copy (the categories).
  if (navigator.onLine === false && (options.method || "GET") !== "GET") throw new OfflineError();
  let response;
  try {
    response = await fetch(url, {
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      ...options,
      // The API's words (errors, category labels) in the page's language.
      headers: { "Accept-Language": LANG, ...(options.headers || {}) },
    });
  } catch {
    throw new OfflineError(); // a network failure: no response at all
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, body, parseRetryAfter(response.headers.get("Retry-After")));
  }
  return { status: response.status, body };
}

export async function getJSON(base, path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(name, String(value));
  }
  const suffix = query.toString() ? `?${query}` : "";
  const { body } = await request(`${base}${path}${suffix}`, {
    headers: { Accept: "application/json" },
  });
  return body;
}

export async function postReport(base, report, idempotencyKey) {
  const { body } = await request(`${base}/reports`, {
    method: "POST",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "Idempotency-Key": idempotencyKey,
    },
    body: JSON.stringify(report),
  });
  return body;
}

export function newIdempotencyKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  // randomUUID needs a secure context; fall back to the same 122 random bits by hand.
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
