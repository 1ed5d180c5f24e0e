import { api } from "../api-client.js";
import { JOB_STATUSES, type JobList, type JobStats, type Throughput } from "../api-types.js";
import { jobTable } from "../components/job-table.js";
import { statusBadge } from "../components/status-badge.js";
import { throughputChart } from "../components/throughput-chart.js";
import { fill, h } from "../dom.js";
import type { View, ViewContext } from "./view.js";

/** Queue overview: counts, throughput, stuck jobs, dead letters, latest jobs. */
export function overviewView(ctx: ViewContext): View {
  const counts = h("div", { class: "cards", "data-testid": "status-counts" });
  const chart = h("div", { class: "chart-box" });
  const byType = h("div");
  const unhandled = h("div", { "data-testid": "unhandled-types" });
  const stuck = h("div");
  const dead = h("div");
  const recent = h("div");
  const expanded = new Set<string>();

  const element = h(
    "div",
    { class: "overview" },
    h("h1", null, "Queue"),
    counts,
    unhandled,
    h("section", null, h("h2", null, "Throughput, last hour"), chart),
    h("section", null, h("h2", null, "By type"), byType),
    h(
      "section",
      null,
      h("h2", null, "Stuck jobs"),
      h(
        "p",
        { class: "hint" },
        "Processing with an expired lease, or not updated for 10 minutes (runbook §2).",
      ),
      stuck,
    ),
    h(
      "section",
      null,
      h("h2", null, "Dead letters"),
      h("p", { class: "hint" }, "Failed for good after their retries; each keeps its error history."),
      dead,
    ),
    h("section", null, h("h2", null, "Latest jobs"), recent),
  );

  return {
    title: "Queue",
    element,
    async load() {
      const [stats, throughput, stuckJobs, deadJobs, latest] = await Promise.all([
        api.get<JobStats>("/api/admin/jobs/stats"),
        api.get<Throughput>("/api/admin/jobs/throughput?minutes=60"),
        api.get<JobList>("/api/admin/jobs?stuck=true&limit=20"),
        api.get<JobList>("/api/admin/jobs?status=failed&limit=20"),
        api.get<JobList>("/api/admin/jobs?limit=15"),
      ]);
      const onChange = ctx.refresh;
      fill(
        counts,
        h(
          "a",
          { class: "card", href: "#/jobs" },
          h("span", { class: "card-label" }, "total"),
          h("span", { class: "card-value" }, stats.total),
        ),
        ...JOB_STATUSES.map((status) =>
          h(
            "a",
            {
              class: `card card-${status}`,
              href: `#/jobs?status=${status}`,
              "data-testid": `count-${status}`,
            },
            h("span", { class: "card-label" }, status),
            h("span", { class: "card-value" }, stats.byStatus[status]),
          ),
        ),
        h(
          "a",
          { class: "card card-stuck", href: "#/jobs?stuck=true", "data-testid": "count-stuck" },
          h("span", { class: "card-label" }, "stuck"),
          h("span", { class: "card-value" }, stats.stuck),
        ),
        h(
          "div",
          {
            class: "card",
            "data-testid": "count-workers",
            title: "Worker processes seen in the last minute",
          },
          h("span", { class: "card-label" }, "workers"),
          h("span", { class: "card-value" }, stats.workers),
        ),
      );
      fill(
        unhandled,
        ...(stats.unhandledTypes.length === 0
          ? []
          : [
              h(
                "p",
                { class: "warning" },
                `Pending jobs that no running worker can run (deploy a worker that defines the type): ${stats.unhandledTypes
                  .map((row) => `${row.type} (${row.pending})`)
                  .join(", ")}`,
              ),
            ]),
      );
      fill(chart, throughputChart(throughput));
      fill(
        byType,
        stats.byType.length === 0
          ? h("p", { class: "muted empty" }, "No jobs yet.")
          : h(
              "table",
              { class: "by-type" },
              h(
                "thead",
                null,
                h(
                  "tr",
                  null,
                  h("th", null, "Type"),
                  ...JOB_STATUSES.map((status) => h("th", null, statusBadge(status))),
                  h("th", null, "total"),
                ),
              ),
              h(
                "tbody",
                null,
                ...stats.byType.map((row) =>
                  h(
                    "tr",
                    null,
                    h(
                      "td",
                      null,
                      h(
                        "a",
                        { href: `#/jobs?type=${encodeURIComponent(row.type)}`, class: "mono" },
                        row.type,
                      ),
                    ),
                    ...JOB_STATUSES.map((status) => h("td", { class: "num" }, row[status])),
                    h("td", { class: "num" }, row.total),
                  ),
                ),
              ),
            ),
      );
      fill(stuck, jobTable(stuckJobs.jobs, { onChange, empty: "No stuck jobs.", testId: "stuck-jobs" }));
      fill(
        dead,
        jobTable(deadJobs.jobs, {
          onChange,
          empty: "No dead letters.",
          errorHistory: true,
          expanded,
          testId: "dead-letters",
        }),
      );
      fill(recent, jobTable(latest.jobs, { onChange, empty: "No jobs yet.", testId: "latest-jobs" }));
    },
  };
}
