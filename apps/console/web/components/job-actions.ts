import { ApiError, api, segment } from "../api-client.js";
import type { Job } from "../api-types.js";
import { h } from "../dom.js";
import { confirmAction } from "./confirm-dialog.js";
import { notify } from "./notices.js";

type Action = "requeue" | "cancel" | "kill";

function describe(job: Job): string {
  return `${job.type} job ${job._id}${job.clientCode ? ` (client ${job.clientCode})` : ""}`;
}

const questions: Record<
  Action,
  (job: Job) => { title: string; body: string[]; confirmLabel: string; danger?: boolean }
> = {
  requeue: (job) => ({
    title: "Requeue this job?",
    body: [
      `Requeue ${describe(job)}.`,
      "It goes back to pending with retries 0 and runs as soon as a worker is free.",
      ...(job.status === "completed" ? ["It already completed: it will run again."] : []),
      ...(job.status === "processing"
        ? ["A worker may still hold it: that attempt is fenced out and can no longer finish it."]
        : []),
    ],
    confirmLabel: "Requeue",
  }),
  cancel: (job) => ({
    title: "Cancel this job?",
    body: [`Cancel ${describe(job)}.`, "It will not run. Only pending jobs can be cancelled."],
    confirmLabel: "Cancel job",
    danger: true,
  }),
  kill: (job) => ({
    title: "Delete this job for good?",
    body: [
      `Delete ${describe(job)}.`,
      "The runbook's “kill a poison job”: the document is removed and cannot be requeued.",
    ],
    confirmLabel: "Delete job",
    danger: true,
  }),
};

/**
 * The API refuses to requeue a job a live worker still runs, or one that completed (409
 * ECODRIX_JOBS_NOT_REQUEUEABLE, saying why). The operator sees that reason and may insist (force).
 */
async function requeue(path: `/api/admin/jobs/${string}`): Promise<boolean> {
  try {
    await api.post(`${path}/requeue`);
    return true;
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "ECODRIX_JOBS_NOT_REQUEUEABLE")) throw error;
    const insist = await confirmAction({
      title: "The API refused to requeue this job",
      body: [error.message, "Requeue it anyway?"],
      confirmLabel: "Requeue anyway",
      danger: true,
    });
    if (!insist) return false;
    await api.post(`${path}/requeue?force=true`);
    return true;
  }
}

async function run(action: Action, job: Job): Promise<boolean> {
  if (!(await confirmAction(questions[action](job)))) return false;
  const path = `/api/admin/jobs/${segment(job._id)}` as const;
  try {
    if (action === "requeue") {
      if (!(await requeue(path))) return false;
    } else if (action === "cancel") await api.post(`${path}/cancel`);
    else await api.delete(path);
    notify(
      action === "requeue"
        ? `Job ${job._id} requeued`
        : action === "cancel"
          ? `Job ${job._id} cancelled`
          : `Job ${job._id} deleted`,
    );
    return true;
  } catch (error) {
    notify(error instanceof ApiError ? error.message : String(error), "error");
    return false;
  }
}

/** Requeue / cancel / kill buttons for a job, each behind a confirmation. */
export function jobActions(job: Job, onDone: (action: Action) => void): HTMLElement {
  const button = (action: Action, label: string, className: string) =>
    h(
      "button",
      {
        type: "button",
        class: `button small ${className}`,
        title: `${label} job ${job._id}`,
        onclick: async (event) => {
          const target = event.currentTarget as HTMLButtonElement;
          target.disabled = true;
          try {
            if (await run(action, job)) onDone(action);
          } finally {
            target.disabled = false;
          }
        },
      },
      label,
    );
  return h(
    "span",
    { class: "job-actions" },
    job.status !== "pending" ? button("requeue", "Requeue", "") : null,
    job.status === "pending" ? button("cancel", "Cancel", "") : null,
    button("kill", "Kill", "danger"),
  );
}
