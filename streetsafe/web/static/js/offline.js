// Reporting with no signal: the service worker (/sw.js) keeps the page, its scripts and the
// category list, so the page opens and a report can be completed offline; a report that
// cannot be sent is saved on this device (outbox.js) and sent when the connection returns:
// by Background Sync where the browser has it, otherwise the next time the page is open (or
// as soon as it comes back online). Every text shown is in the page's template; this module
// only fills in data (dates, reasons, receipt codes) with textContent.

import { LANG } from "./i18n.js";
import { SYNC_TAG, remove, save, sendAll, takeSent, waiting } from "./outbox.js";

const $ = (selector) => document.querySelector(selector);
let api = null;
let labelOf = (id) => id;
let sending = null;

function supported() {
  return "indexedDB" in window;
}

function fill(node, selector, text) {
  const target = node.querySelector(selector);
  if (target) target.textContent = text;
}

async function renderWaiting() {
  const items = await waiting();
  const list = $("#outbox-list");
  list.replaceChildren();
  for (const item of items) {
    const row = $("#outbox-item").content.firstElementChild.cloneNode(true);
    const when = new Date(item.body.occurred_at);
    fill(row, "[data-when]", when.toLocaleString(document.documentElement.lang || "en-GB", { dateStyle: "medium", timeStyle: "short" }));
    fill(row, "[data-what]", item.body.categories.map((id) => labelOf(id)).join("; "));
    if (item.refused) {
      row.querySelector("[data-refused]").hidden = false;
      fill(row, "[data-reason]", item.refused);
    }
    row.querySelector("[data-delete]").addEventListener("click", async () => {
      await remove(item.key);
      $("#outbox-deleted").hidden = false;
      await renderWaiting();
    });
    list.append(row);
  }
  $("#outbox-waiting").hidden = items.length === 0;
  $("#outbox-saved").hidden = !items.some((item) => !item.refused);
  refreshSection();
}

function refreshSection() {
  const parts = ["#outbox-waiting", "#outbox-saved", "#outbox-sent", "#outbox-deleted"];
  $("#outbox").hidden = parts.every((selector) => $(selector).hidden);
}

function showSent(receipts) {
  if (receipts.length === 0) return;
  const list = $("#outbox-sent-list");
  const shown = new Set(Array.from(list.querySelectorAll("[data-code]"), (node) => node.textContent));
  for (const receipt of receipts) {
    if (!receipt.receipt_code || shown.has(receipt.receipt_code)) continue; // sent by both
    shown.add(receipt.receipt_code);
    const row = $("#outbox-sent-item").content.firstElementChild.cloneNode(true);
    fill(row, "[data-code]", receipt.receipt_code);
    row.querySelector("[data-link]").href = `${LANG === "cy" ? "/cy" : ""}/receipt/${encodeURIComponent(receipt.receipt_code)}`;
    list.append(row);
  }
  $("#outbox-sent").hidden = false;
  refreshSection();
}

// Send what is waiting (one round at a time), then show what went and what is left.
export async function sendWaiting() {
  if (!supported()) return;
  if (sending) return sending;
  sending = (async () => {
    try {
      const { sent } = await sendAll(api);
      showSent([...sent, ...(await takeSent())]);
    } finally {
      sending = null;
      await renderWaiting();
    }
  })();
  return sending;
}

// Save a report that could not be sent; false when this browser cannot keep it.
export async function saveForLater(body, key) {
  if (!supported()) return false;
  try {
    await save(body, key, document.documentElement.lang || "en");
  } catch {
    return false;
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.ready
      .then((registration) => registration.sync && registration.sync.register(SYNC_TAG))
      .catch(() => {}); // no Background Sync: the page sends it when it is next open
  }
  return true;
}

// After saveForLater and a fresh form: say it was saved, and show what is waiting.
export async function announceSaved() {
  $("#outbox-sent").hidden = true;
  $("#outbox-deleted").hidden = true;
  await renderWaiting();
  $("#outbox").focus();
}

export function startOffline({ apiBase, label }) {
  api = apiBase;
  if (label) labelOf = label;
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/", type: "module" }).catch(() => {});
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "sent") {
        takeSent().then((kept) => showSent([...event.data.receipts, ...kept])).then(renderWaiting);
      }
    });
  }
  if (!supported()) return;
  window.addEventListener("online", () => sendWaiting());
  sendWaiting();
}
