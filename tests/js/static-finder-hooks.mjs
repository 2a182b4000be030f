// The module hooks of static-finder.mjs: a relative import from static/ that is not there is
// looked for in tasks_app/static/, as STATICFILES_DIRS first and then the app's static/ are.
import { existsSync } from "node:fs";

const ROOT = new URL("../../", import.meta.url);
const SITE = new URL("static/", ROOT);
const APP = new URL("tasks_app/static/", ROOT);

export async function resolve(specifier, context, nextResolve) {
  if (context.parentURL?.startsWith(SITE.href) && specifier.startsWith(".")) {
    const url = new URL(specifier, context.parentURL);
    const inApp = new URL(url.href.slice(SITE.href.length), APP);
    if (!existsSync(url) && existsSync(inApp)) return nextResolve(inApp.href, context);
  }
  return nextResolve(specifier, context);
}
