// "Leave this site quickly": hide the page at once and replace it, and its history entry,
// with an innocuous site, so the back button does not come back here.
const link = document.querySelector("[data-quick-exit]");
if (link) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    document.body.hidden = true;
    document.title = "Weather";
    window.location.replace(link.href);
  });
}
