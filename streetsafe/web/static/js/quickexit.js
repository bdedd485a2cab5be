// "Leave this site quickly": hide the page at once and replace it, and its history entry,
// with an innocuous site, so the back button does not come back here. From the keyboard too:
// Escape (unless something on the page used it, such as closing a list of suggestions), or
// Shift pressed three times in a row within two seconds, as in GOV.UK's "Exit this page".
const link = document.querySelector("[data-quick-exit]");
const SHIFT_PRESSES = 3;
const SHIFT_WINDOW_MS = 2000;

function leave() {
  document.body.hidden = true;
  document.title = "Weather";
  window.location.replace(link.href);
}

if (link) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    leave();
  });

  let shifts = [];
  document.addEventListener("keydown", (event) => {
    if (event.key === "Shift") {
      if (event.repeat) return;
      const now = performance.now();
      shifts = [...shifts.filter((at) => now - at < SHIFT_WINDOW_MS), now];
      if (shifts.length >= SHIFT_PRESSES) leave();
      return;
    }
    shifts = []; // another key in between: typing a capital letter is not a way out
    // Bubbling, so a widget that handles Escape first (and says so) keeps it.
    if (event.key === "Escape" && !event.defaultPrevented) leave();
  });
}
