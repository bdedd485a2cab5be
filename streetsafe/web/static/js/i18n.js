// Messages in the page's language, from the server's gettext catalogue: the page embeds them
// as JSON (#messages), so no script is inline and nothing is fetched. t("English {name}",
// {name}) and tn(singular, plural, n, {...}) fill in {name}; plurals pick their form with
// Intl.PluralRules (the CLDR rule Babel uses: Welsh has six forms).

const block = document.getElementById("messages");
const catalogue = block ? JSON.parse(block.textContent) : { lang: "en", messages: {}, plurals: {} };

export const LANG = catalogue.lang;
const plurals = new Intl.PluralRules(LANG);

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function t(message, params = {}) {
  return fill(catalogue.messages[message] || message, params);
}

export function tn(singular, plural, n, params = {}) {
  const forms = catalogue.plurals[singular];
  const text = forms ? forms[plurals.select(n)] || forms.other : n === 1 ? singular : plural;
  return fill(text, { n, ...params });
}
