import { api } from "../api-client.js";
import { JOB_STATUSES, type JobList } from "../api-types.js";
import { jobTable } from "../components/job-table.js";
import { fill, h } from "../dom.js";
import { navigate } from "../router.js";
import type { View, ViewContext } from "./view.js";

const FILTERS = ["status", "type", "clientCode", "stuck"] as const;

/** All jobs, filtered by status / type / client / stuck, newest first, 50 a page. */
export function jobsView(ctx: ViewContext, filter: URLSearchParams): View {
  const query = new URLSearchParams();
  for (const name of FILTERS) {
    const value = filter.get(name);
    if (value) query.set(name, value);
  }
  const before = filter.get("before");

  const status = h(
    "select",
    { name: "status", "aria-label": "Status" },
    h("option", { value: "" }, "any status"),
    ...JOB_STATUSES.map((value) => h("option", { value, selected: query.get("status") === value }, value)),
  );
  const type = h("input", {
    name: "type",
    placeholder: "job type",
    value: query.get("type") ?? "",
    "aria-label": "Type",
  });
  const client = h("input", {
    name: "clientCode",
    placeholder: "client code",
    value: query.get("clientCode") ?? "",
    "aria-label": "Client code",
  });
  const stuck = h("input", { type: "checkbox", name: "stuck", id: "filter-stuck" });
  stuck.checked = query.get("stuck") === "true";
  const form = h(
    "form",
    {
      class: "filters",
      method: "post",
      onsubmit: (event) => {
        event.preventDefault();
        const next = new URLSearchParams();
        if (status.value) next.set("status", status.value);
        if (type.value.trim()) next.set("type", type.value.trim());
        if (client.value.trim()) next.set("clientCode", client.value.trim());
        if (stuck.checked) next.set("stuck", "true");
        navigate(`#/jobs${next.size > 0 ? `?${next}` : ""}`);
      },
    },
    status,
    type,
    client,
    h("label", { for: "filter-stuck", class: "check" }, stuck, " stuck only"),
    h("button", { type: "submit", class: "button" }, "Filter"),
  );
  const table = h("div");
  const pager = h("div", { class: "pager" });

  return {
    title: "Jobs",
    element: h("div", null, h("h1", null, "Jobs"), form, table, pager),
    async load() {
      const params = new URLSearchParams(query);
      params.set("limit", "50");
      if (before) params.set("before", before);
      const list = await api.get<JobList>(`/api/admin/jobs?${params}`);
      fill(
        table,
        jobTable(list.jobs, {
          onChange: ctx.refresh,
          empty: "No jobs match.",
          errorHistory: false,
          testId: "jobs",
        }),
      );
      const first = new URLSearchParams(query);
      const older = new URLSearchParams(query);
      if (list.nextBefore) older.set("before", list.nextBefore);
      fill(
        pager,
        before
          ? h("a", { href: `#/jobs${first.size > 0 ? `?${first}` : ""}`, class: "button" }, "Newest")
          : null,
        list.nextBefore ? h("a", { href: `#/jobs?${older}`, class: "button" }, "Older") : null,
      );
    },
  };
}
