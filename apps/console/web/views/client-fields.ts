import type { ClientView } from "../api-types.js";
import { statusBadge } from "../components/status-badge.js";
import { type Child, h } from "../dom.js";
import { prettyJson } from "../format.js";

/** Fields the console knows; anything else the API adds to a client (integration status…) is listed as is. */
const KNOWN = new Set([
  "clientCode",
  "name",
  "email",
  "status",
  "apiKeyHint",
  "apiKeyCreatedAt",
  "secretsSet",
  "datasource",
  "corsOrigins",
  "createdAt",
  "updatedAt",
]);

export function secretNames(client: ClientView): Child {
  const names = client.secretsSet ?? [];
  if (names.length === 0) return h("span", { class: "muted" }, "none");
  return h("span", { class: "chips" }, ...names.map((name) => h("span", { class: "chip mono" }, name)));
}

export function datasource(client: ClientView): Child {
  if (!client.datasource?.registered) return h("span", { class: "muted" }, "not registered");
  return h("span", null, "registered · ", h("span", { class: "mono" }, client.datasource.dbName ?? "?"));
}

export function corsOrigins(client: ClientView): Child {
  const origins = client.corsOrigins ?? [];
  if (origins.length === 0) return h("span", { class: "muted" }, "none");
  return h("span", { class: "chips" }, ...origins.map((origin) => h("span", { class: "chip mono" }, origin)));
}

export function clientStatus(client: ClientView): Child {
  return client.status ? statusBadge(client.status) : h("span", { class: "muted" }, "—");
}

/** Integration status and other fields the API reports beyond the known ones, each as text. */
export function extraFields(client: ClientView): [string, Child][] {
  return Object.entries(client)
    .filter(([key]) => !KNOWN.has(key))
    .map(([key, value]) => [
      key,
      typeof value === "object" && value !== null
        ? h("pre", { class: "json small" }, prettyJson(value))
        : h("span", null, String(value)),
    ]);
}
