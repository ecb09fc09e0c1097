// The widget of each task kind, from the server's list of kinds (fetched once a page).

import { api } from "/static/js/api.js";
import { loadWidget } from "/static/js/widgets/index.js";

let widgets;

export async function widgetFor(kind) {
  widgets ??= api("GET", "/v1/kinds").then(
    (found) => new Map(found.items.map((k) => [k.name, k.widget])),
  );
  return loadWidget((await widgets).get(kind));
}
