// The page's language: Django's JavaScript catalog (a <script> the page loads before its
// modules, which sets globalThis.django) for words, and <html lang> for numbers and times.
// Without a catalog (node --test, a page that left it out) the English as written.

const catalog = () => globalThis.django;

export function gettext(text) {
  return catalog()?.gettext ? catalog().gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (catalog()?.ngettext) return catalog().ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

// "%(name)s" filled from `values`, as Python's % formatting does (the catalog's strings use it).
export function interpolate(format, values) {
  return format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
}

export function locale() {
  return globalThis.document?.documentElement?.lang || "en";
}

export function formatNumber(value, options) {
  return typeof value === "number" ? value.toLocaleString(locale(), options) : String(value ?? "");
}
