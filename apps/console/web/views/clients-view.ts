import { api } from "../api-client.js";
import type { ClientView } from "../api-types.js";
import { fill, h } from "../dom.js";
import { formatTime } from "../format.js";
import { clientStatus, corsOrigins, datasource, extraFields, secretNames } from "./client-fields.js";
import type { View } from "./view.js";

/** Every client with what an operator checks during onboarding (runbook §1). */
export function clientsView(): View {
  const table = h("div");
  return {
    title: "Clients",
    element: h("div", null, h("h1", null, "Clients"), table),
    async load() {
      const { clients } = await api.get<{ clients: ClientView[] }>("/api/clients");
      if (clients.length === 0) {
        fill(
          table,
          h(
            "p",
            { class: "muted empty" },
            "No clients yet. Onboard one with POST /api/clients (runbook §1).",
          ),
        );
        return;
      }
      fill(
        table,
        h(
          "table",
          { class: "clients", "data-testid": "clients" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              ...[
                "Client",
                "Name",
                "Status",
                "Secrets set",
                "Datasource",
                "CORS origins",
                "Other",
                "Created",
              ].map((title) => h("th", null, title)),
            ),
          ),
          h(
            "tbody",
            null,
            ...clients.map((client) =>
              h(
                "tr",
                { "data-testid": `client-${client.clientCode}` },
                h(
                  "td",
                  null,
                  h(
                    "a",
                    { href: `#/clients/${encodeURIComponent(client.clientCode)}`, class: "mono" },
                    client.clientCode,
                  ),
                ),
                h("td", { class: "client-name" }, client.name ?? ""),
                h("td", null, clientStatus(client)),
                h("td", null, secretNames(client)),
                h("td", null, datasource(client)),
                h("td", null, corsOrigins(client)),
                h(
                  "td",
                  null,
                  ...extraFields(client).map(([key, value]) =>
                    h("div", null, h("span", { class: "muted" }, `${key}: `), value),
                  ),
                ),
                h("td", null, formatTime(client.createdAt)),
              ),
            ),
          ),
        ),
      );
    },
  };
}
