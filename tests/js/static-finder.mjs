// Resolves imports between static files as Django's staticfiles finders serve them: the site's
// static/ and tasks_app/static/ are one tree at /static/ (node --import ./tests/js/static-finder.mjs).
import { register } from "node:module";

register("./static-finder-hooks.mjs", import.meta.url);
