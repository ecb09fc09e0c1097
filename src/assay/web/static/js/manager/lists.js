// Every item of a paginated list endpoint, following next_token page by page.

import { api } from "/static/js/api.js";

export async function allDocs(path) {
  const docs = [];
  const joiner = path.includes("?") ? "&" : "?";
  let token = null;
  do {
    const page = await api("GET", `${path}${joiner}limit=100${token ? `&next_token=${encodeURIComponent(token)}` : ""}`);
    docs.push(...page.docs);
    token = page.next_token;
  } while (token);
  return docs;
}
