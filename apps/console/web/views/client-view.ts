import { ApiError, api, segment } from "../api-client.js";
import type { ClientView, JobList, RotatedKey } from "../api-types.js";
import { confirmAction } from "../components/confirm-dialog.js";
import { jobTable } from "../components/job-table.js";
import { notify } from "../components/notices.js";
import { type Child, fill, h } from "../dom.js";
import { formatTime } from "../format.js";
import { clientStatus, corsOrigins, datasource, extraFields, secretNames } from "./client-fields.js";
import type { View, ViewContext } from "./view.js";

function field(label: string, ...value: Child[]): HTMLElement[] {
  return [h("dt", null, label), h("dd", null, ...value)];
}

/**
 * The new key, shown once: it lives only in this panel's DOM (not in storage, not in the URL), outside
 * the part of the page that polling refreshes, and is gone when the operator hides it or leaves.
 */
function newKeyPanel(rotated: RotatedKey, close: () => void): HTMLElement {
  const key = h("code", { class: "secret", "data-testid": "new-api-key" }, rotated.apiKey);
  const copy = h(
    "button",
    {
      type: "button",
      class: "button",
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(rotated.apiKey);
          notify("Key copied to the clipboard");
        } catch {
          // No clipboard access (plain http on another host): select the key for Ctrl-C instead.
          getSelection()?.selectAllChildren(key);
          notify("Select-and-copy: the key is selected", "error");
        }
      },
    },
    "Copy",
  );
  return h(
    "div",
    { class: "new-key", role: "alert" },
    h("h2", null, `New API key for ${rotated.clientCode}`),
    h("p", null, rotated.warning ?? "Save this key now: it cannot be retrieved again."),
    h("p", null, key),
    h(
      "div",
      { class: "actions" },
      copy,
      h(
        "button",
        { type: "button", class: "button primary", onclick: close },
        "I have saved it — hide the key",
      ),
    ),
  );
}

/** One client: its onboarding state, rotate key, and its jobs. */
export function clientView(ctx: ViewContext, clientCode: string): View {
  const header = h("div", { class: "title-row" });
  const keyArea = h("div");
  const body = h("div");
  const jobs = h("div");
  const expanded = new Set<string>();
  const rotate = h(
    "button",
    {
      type: "button",
      class: "button danger",
      onclick: async () => {
        const confirmed = await confirmAction({
          title: "Rotate this client's API key?",
          body: [
            `A new key is issued for ${clientCode} and shown once.`,
            "The current key stops working immediately: the client's apps fail until they use the new one.",
          ],
          confirmLabel: "Rotate key",
          danger: true,
        });
        if (!confirmed) return;
        try {
          const rotated = await api.post<RotatedKey>(`/api/clients/${segment(clientCode)}/rotate-key`);
          fill(
            keyArea,
            newKeyPanel(rotated, () => fill(keyArea)),
          );
          ctx.refresh();
        } catch (error) {
          notify(error instanceof ApiError ? error.message : String(error), "error");
        }
      },
    },
    "Rotate key",
  );

  return {
    title: `Client ${clientCode}`,
    element: h("div", { class: "client-detail" }, header, keyArea, body, h("h2", null, "Jobs"), jobs),
    async load() {
      let client: ClientView;
      try {
        client = await api.get<ClientView>(`/api/clients/${segment(clientCode)}`);
      } catch (error) {
        if (error instanceof ApiError && (error.statusCode === 404 || error.statusCode === 400)) {
          fill(header, h("h1", null, "Client not found"));
          fill(body, h("p", { class: "muted" }, error.message), h("a", { href: "#/clients" }, "All clients"));
          fill(jobs);
          return;
        }
        throw error;
      }
      const list = await api.get<JobList>(`/api/admin/jobs?clientCode=${segment(clientCode)}&limit=50`);
      fill(
        header,
        h("h1", null, "Client ", h("span", { class: "mono" }, client.clientCode)),
        clientStatus(client),
        rotate,
      );
      fill(
        body,
        h(
          "dl",
          { class: "fields" },
          ...field("Name", h("span", { class: "client-name" }, client.name ?? "")),
          ...field("E-mail", client.email ?? "—"),
          ...field("Status", clientStatus(client)),
          ...field(
            "API key",
            h("span", { class: "mono" }, client.apiKeyHint ?? "—"),
            ` issued ${formatTime(client.apiKeyCreatedAt)}`,
          ),
          ...field("Secrets set", secretNames(client)),
          ...field("Datasource", datasource(client)),
          ...field("CORS origins", corsOrigins(client)),
          ...extraFields(client).flatMap(([key, value]) => field(key, value)),
          ...field("Created", formatTime(client.createdAt)),
          ...field("Updated", formatTime(client.updatedAt)),
        ),
      );
      fill(
        jobs,
        jobTable(list.jobs, {
          onChange: ctx.refresh,
          empty: "No jobs for this client.",
          errorHistory: true,
          expanded,
          testId: "client-jobs",
        }),
        list.nextBefore
          ? h(
              "a",
              { href: `#/jobs?clientCode=${encodeURIComponent(clientCode)}` },
              "All of this client's jobs",
            )
          : null,
      );
    },
  };
}
