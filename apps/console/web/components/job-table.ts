import type { Job } from "../api-types.js";
import { h } from "../dom.js";
import { formatAgo, formatTime } from "../format.js";
import { jobActions } from "./job-actions.js";
import { statusBadge } from "./status-badge.js";

export interface JobTableOptions {
  /** Show each job's error history in a disclosure (dead letters). */
  errorHistory?: boolean;
  /** Ids whose error history is open; kept by the view so a refresh does not close them. */
  expanded?: Set<string>;
  /** After an action: the view reloads its data. */
  onChange: () => void;
  empty: string;
  testId?: string;
}

export function errorHistory(job: Job): HTMLElement {
  const entries = job.errors ?? [];
  if (entries.length === 0) return h("p", { class: "muted" }, "No error recorded.");
  return h(
    "ol",
    { class: "error-history" },
    ...entries.map((entry) =>
      h(
        "li",
        null,
        h("span", { class: "muted" }, `${formatTime(entry.at)} · attempt ${entry.attempt}`),
        entry.code ? h("span", { class: "code" }, entry.code) : null,
        h("pre", { class: "error-message" }, entry.message),
      ),
    ),
  );
}

export function jobLink(job: Pick<Job, "_id">): HTMLAnchorElement {
  return h("a", { href: `#/jobs/${encodeURIComponent(job._id)}`, class: "mono" }, job._id);
}

export function clientLink(clientCode: string | null | undefined): Node {
  if (!clientCode) return h("span", { class: "muted" }, "—");
  return h("a", { href: `#/clients/${encodeURIComponent(clientCode)}` }, clientCode);
}

/** A table of jobs with their actions; rows carry the job id so tests and operators can find them. */
export function jobTable(jobs: Job[], options: JobTableOptions): HTMLElement {
  if (jobs.length === 0) return h("p", { class: "muted empty" }, options.empty);
  const rows = jobs.flatMap((job) => {
    const row = h(
      "tr",
      { "data-testid": `job-${job._id}`, "data-status": job.status },
      h("td", null, jobLink(job)),
      h("td", { class: "mono" }, job.type),
      h("td", null, clientLink(job.clientCode)),
      h("td", null, statusBadge(job.status)),
      h("td", { class: "num" }, `${job.retries ?? 0}/${job.maxRetries ?? 0}`),
      h("td", { title: formatTime(job.updatedAt) }, formatAgo(job.updatedAt)),
      h("td", { class: "last-error" }, job.lastError ?? ""),
      h("td", null, jobActions(job, options.onChange)),
    );
    if (!options.errorHistory) return [row];
    const expanded = options.expanded ?? new Set<string>();
    const details = h(
      "details",
      {
        open: expanded.has(job._id),
        ontoggle: (event) => {
          if ((event.currentTarget as HTMLDetailsElement).open) expanded.add(job._id);
          else expanded.delete(job._id);
        },
      },
      h("summary", null, `Error history (${job.errors?.length ?? 0})`),
      errorHistory(job),
    );
    const cell = h("td", { class: "history" }, details);
    cell.setAttribute("colspan", "8");
    return [row, h("tr", { class: "history-row" }, cell)];
  });
  return h(
    "table",
    { class: "jobs", ...(options.testId ? { "data-testid": options.testId } : {}) },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        ...["Job", "Type", "Client", "Status", "Retries", "Updated", "Last error", ""].map((title) =>
          h("th", null, title),
        ),
      ),
    ),
    h("tbody", null, ...rows),
  );
}
