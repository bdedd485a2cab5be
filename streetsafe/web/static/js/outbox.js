// The outbox: reports saved on this device (IndexedDB) until they can be sent. Used by the page
// (offline.js) and by the service worker (sw.js, for Background Sync), so it touches no DOM.
//
// Each report is kept with its Idempotency-Key and its occurred_at, so a resend, by the page or
// by the service worker, even both at once, is stored once by the server. A report is deleted
// the moment the server has it; all that is kept then is its receipt code, until the page has
// shown it once (a report sent in the background, with no page open to say so).

const DB_NAME = "streetsafe-outbox";
const STORE = "reports";
const SENT_STORE = "sent"; // {key, receipt_code}: shown once by the page, then deleted
export const SYNC_TAG = "streetsafe-send-reports";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(STORE, { keyPath: "key" });
      request.result.createObjectStore(SENT_STORE, { keyPath: "key" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(storeName, mode, action) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(storeName, mode);
      const result = action(tx.objectStore(storeName));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

// The UTC hour the report happened in: the server keeps nothing finer, so neither does the
// device. A report saved with "Just now" gets the hour it was saved in, not the hour it is sent.
export function hourOf(date) {
  const hour = new Date(date.getTime());
  hour.setUTCMinutes(0, 0, 0);
  return hour.toISOString();
}

// `original` is the body as the page first tried to send it: when that attempt reached the
// server after all (only its answer was lost), the key is the original body's, and sending
// the original again gets that report's receipt instead of a refusal.
// `lang` is the page's language: a refusal comes back in it, even when the service worker
// sends the report with no page open.
export async function save(body, key, lang = "en", now = new Date()) {
  const kept = { ...body, occurred_at: body.occurred_at || hourOf(now) };
  const original = body.occurred_at ? null : body;
  await run(STORE, "readwrite", (store) => store.put({ key, body: kept, original, lang, refused: null }));
  return kept;
}

export function waiting() {
  return run(STORE, "readonly", (store) => store.getAll());
}

export function remove(key) {
  return run(STORE, "readwrite", (store) => store.delete(key));
}

export function takeSent() {
  return run(SENT_STORE, "readwrite", (store) => {
    const all = store.getAll();
    store.clear();
    return all;
  });
}

function keepSent(key, receiptCode) {
  return run(SENT_STORE, "readwrite", (store) => store.put({ key, receipt_code: receiptCode }));
}

function markRefused(item, message) {
  return run(STORE, "readwrite", (store) => store.put({ ...item, refused: message }));
}

// One POST; throws when there is no connection.
async function post(apiBase, key, report, lang) {
  const response = await fetch(`${apiBase}/reports`, {
    method: "POST",
    credentials: "omit",
    cache: "no-store",
    referrerPolicy: "no-referrer",
    headers: {
      Accept: "application/json",
      "Accept-Language": lang || "en",
      "Content-Type": "application/json",
      "Idempotency-Key": key,
    },
    body: JSON.stringify(report),
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return { response, body };
}

function keyUsedBefore(response, body) {
  return response.status === 422 && body && body.field === "Idempotency-Key";
}

// Send every waiting report once. Returns {sent: [receipt...], stopped: reason|null}. A report
// the server refuses for good (400, 422) stays, marked refused, for the person to see and
// delete; no connection, a 429 or a server error stop the round (try again later).
export async function sendAll(apiBase, { fromBackground = false } = {}) {
  const sent = [];
  for (const item of await waiting()) {
    if (item.refused) continue;
    let response;
    let body;
    try {
      ({ response, body } = await post(apiBase, item.key, item.body, item.lang));
      if (keyUsedBefore(response, body) && item.original) {
        ({ response, body } = await post(apiBase, item.key, item.original, item.lang));
      }
    } catch {
      return { sent, stopped: "offline" };
    }
    if (response.ok) {
      await remove(item.key);
      if (fromBackground) await keepSent(item.key, body.receipt_code);
      sent.push(body);
    } else if (response.status === 400 || response.status === 413 || response.status === 422) {
      await markRefused(item, (body && body.message) || `HTTP ${response.status}`);
    } else {
      return { sent, stopped: response.status === 429 ? "limited" : "server" };
    }
  }
  return { sent, stopped: null };
}
