import { ApiError, api, segment } from "../api-client.js";
import type { Job } from "../api-types.js";
import { jobActions } from "../components/job-actions.js";
import { clientLink, errorHistory } from "../components/job-table.js";
import { statusBadge } from "../components/status-badge.js";
import { type Child, fill, h } from "../dom.js";
import { formatAgo, formatTime, prettyJson } from "../format.js";
import { navigate } from "../router.js";
import type { View, ViewContext } from "./view.js";

function field(label: string, ...value: Child[]): HTMLElement[] {
  return [h("dt", null, label), h("dd", null, ...value)];
}

const when = (iso: string | null | undefined) => (iso ? `${formatTime(iso)} (${formatAgo(iso)})` : "—");

/** One job: every field of its document, payload and result as JSON text, its error history, actions. */
export function jobView(ctx: ViewContext, id: string): View {
  const header = h("div", { class: "title-row" });
  const body = h("div");
  return {
    title: `Job ${id}`,
    element: h("div", { class: "job-detail" }, header, body),
    async load() {
      let job: Job;
      try {
        job = await api.get<Job>(`/api/admin/jobs/${segment(id)}`);
      } catch (error) {
        if (error instanceof ApiError && (error.statusCode === 404 || error.statusCode === 400)) {
          fill(header, h("h1", null, "Job not found"));
          fill(body, h("p", { class: "muted" }, error.message), h("a", { href: "#/jobs" }, "All jobs"));
          return;
        }
        throw error;
      }
      fill(
        header,
        h("h1", null, "Job ", h("span", { class: "mono" }, job._id)),
        statusBadge(job.status),
        jobActions(job, (action) => (action === "kill" ? navigate("#/jobs") : ctx.refresh())),
      );
      fill(
        body,
        h(
          "dl",
          { class: "fields" },
          ...field("Type", h("span", { class: "mono" }, job.type)),
          ...field("Client", clientLink(job.clientCode)),
          ...field("Status", statusBadge(job.status)),
          ...field("Priority", String(job.priority ?? 0)),
          ...field("Retries", `${job.retries ?? 0} of ${job.maxRetries ?? 0}`),
          ...field("Attempts", String(job.attempts ?? 0)),
          ...field("Run at", when(job.runAt)),
          ...field("Locked by", job.lockedBy ?? "—"),
          ...field("Lease until", when(job.lockedUntil)),
          ...field("Created", when(job.createdAt)),
          ...field("Updated", when(job.updatedAt)),
          ...field("Finished", when(job.completedAt)),
          ...(job.dedupeKey ? field("Dedupe key", h("span", { class: "mono" }, job.dedupeKey)) : []),
          ...field("Last error", job.lastError ? h("pre", { class: "error-message" }, job.lastError) : "—"),
        ),
        h("h2", null, "Payload"),
        h("pre", { class: "json", "data-testid": "job-payload" }, prettyJson(job.payload ?? {})),
        job.result !== undefined ? h("h2", null, "Result") : null,
        job.result !== undefined
          ? h("pre", { class: "json", "data-testid": "job-result" }, prettyJson(job.result))
          : null,
        h("h2", null, `Error history (${job.errors?.length ?? 0})`),
        errorHistory(job),
      );
    },
  };
}
