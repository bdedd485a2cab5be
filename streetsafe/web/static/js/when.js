// "When?": now, earlier today or another day, each with a six-hour time band. A band is
// deliberately coarse: the exact minute adds little for hotspots and could identify someone.

import { t } from "./i18n.js";

export const BAND_LENGTH_H = 6;
export const MAX_DAYS_AGO = 365;

export class WhenError extends Error {}

function pad(value) {
  return String(value).padStart(2, "0");
}

export function isoWithOffset(date) {
  const offsetMin = -date.getTimezoneOffset();
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:00` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

export function dateInputValue(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function dayLimits(now = new Date()) {
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  const earliest = new Date(now.getFullYear(), now.getMonth(), now.getDate() - MAX_DAYS_AGO);
  return { min: dateInputValue(earliest), max: dateInputValue(yesterday) };
}

export function bandStarted(bandStartH, now = new Date()) {
  return now.getHours() >= bandStartH;
}

// The ISO 8601 time to send, or null for "now" (the server stamps it, so clocks cannot skew).
export function occurredAt(choice, day, bandStartH, now = new Date()) {
  if (choice === "now") return null;
  let base;
  if (choice === "today") {
    base = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  } else {
    const limits = dayLimits(now);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day || "")) throw new WhenError(t("Choose the day it happened."));
    if (day > limits.max) throw new WhenError(t("For today, choose “Earlier today”."));
    if (day < limits.min) throw new WhenError(t("Reports can be up to a year old."));
    const [year, month, date] = day.split("-").map(Number);
    base = new Date(year, month - 1, date);
  }
  const start = new Date(base.getFullYear(), base.getMonth(), base.getDate(), bandStartH);
  if (start > now) throw new WhenError(t("That time of day has not come yet today."));
  const middle = new Date(base.getFullYear(), base.getMonth(), base.getDate(), bandStartH + 3);
  const at = middle > now ? new Date(Math.max(start.getTime(), now.getTime() - 60_000)) : middle;
  return isoWithOffset(at);
}
