import type { JobDocument } from "@ecodrix/queue";
import { type Db, ObjectId } from "mongodb";
import type { CrmServiceDeps } from "../crm-service-deps.js";
import { publishCrmEvents } from "../events/crm-event-publisher.js";
import { createLeadRepository } from "../leads/lead-repository.js";
import {
  automationNotFound,
  leadNotFound,
  templateNotApproved,
  templateNotFound,
} from "../shared/crm-errors.js";
import { toObjectId } from "../shared/cursor.js";
import { createAutomationRepository } from "./automation-repository.js";
import { createAutomationRunRepository } from "./automation-run-repository.js";
import {
  type AutomationAction,
  type AutomationDocument,
  type AutomationInput,
  type AutomationPatch,
  type AutomationRunDocument,
  type AutomationView,
  type RunStep,
  toAutomationView,
} from "./automation-types.js";
import { normalizeAutomation } from "./automation-validator.js";

/** Where the WhatsApp template sync (runbook §5) keeps a tenant's templates: `{ name, language, status, … }`. */
export const WHATSAPP_TEMPLATES_COLLECTION = "whatsapp_templates";

export interface RunStepView {
  step: number;
  action: string;
  jobType: string;
  jobId: string | null;
  runAt: string | null;
  /**
   * skipped / failed (when planned); else the integration's outcome (sent, delivered, read, failed,
   * created) when it reported one; else the job's status (pending, processing, completed, failed,
   * cancelled).
   */
  status: string;
  reason: string | null;
  outcome: string | null;
  lastError: string | null;
}

export interface RunView {
  id: string;
  automationId: string;
  trigger: string;
  eventId: string;
  eventType: string;
  leadId: string;
  appointmentId: string | null;
  depth: number;
  /** running while a step's job is unfinished; completed; failed (a step failed); stopped (chain depth). */
  status: string;
  reason: string | null;
  createdAt: string;
  steps: RunStepView[];
}

export interface CustomEventView {
  id: string;
  leadId: string;
  type: "custom_event";
  at: string;
  data: { name: string; data?: Record<string, unknown> };
  jobId: string;
}

export interface AutomationService {
  create(clientCode: string, input: AutomationInput): Promise<AutomationView>;
  list(
    clientCode: string,
    query: { trigger?: string; enabled?: boolean; limit?: number; cursor?: string },
  ): Promise<{ automations: AutomationView[]; nextCursor: string | null }>;
  get(clientCode: string, id: string): Promise<AutomationView>;
  update(clientCode: string, id: string, patch: AutomationPatch): Promise<AutomationView>;
  delete(
    clientCode: string,
    id: string,
  ): Promise<{ id: string; deleted: true; pendingJobsCancelled: number }>;
  disableAll(clientCode: string): Promise<{ disabled: number }>;
  runs(
    clientCode: string,
    id: string,
    query: { limit?: number; cursor?: string },
  ): Promise<{ runs: RunView[]; nextCursor: string | null }>;
  /** `POST /api/crm/events`: fires `custom_event` automations whose `name` matches. */
  customEvent(
    clientCode: string,
    input: { name: string; leadId: string; data?: Record<string, unknown> },
  ): Promise<CustomEventView>;
}

/** Every `send_whatsapp` action's template must be among the synced ones, and approved. */
async function checkTemplates(db: Db, actions: readonly AutomationAction[]): Promise<void> {
  const templates = db.collection<{ name: string; language: string; status?: string }>(
    WHATSAPP_TEMPLATES_COLLECTION,
  );
  for (const action of actions) {
    if (action.type !== "send_whatsapp") continue;
    const name = String(action.config.templateName);
    const language = String(action.config.language);
    const template = await templates.findOne({ name, language });
    if (!template) throw templateNotFound(name, language);
    if (typeof template.status === "string" && template.status.toUpperCase() !== "APPROVED") {
      throw templateNotApproved(name, language, template.status);
    }
  }
}

function stepView(step: RunStep, job: JobDocument | undefined): RunStepView {
  let status: string;
  if (step.status !== "scheduled") status = step.status;
  else if (step.outcome) status = step.outcome;
  else status = job?.status ?? "unknown";
  return {
    step: step.step,
    action: step.action,
    jobType: step.jobType,
    jobId: step.jobId ? String(step.jobId) : null,
    runAt: step.runAt ? step.runAt.toISOString() : null,
    status,
    reason: step.reason,
    outcome: step.outcome,
    lastError: step.lastError ?? (step.outcome ? null : (job?.lastError ?? null)),
  };
}

const UNFINISHED = new Set(["pending", "processing"]);

function runView(run: AutomationRunDocument, jobs: Map<string, JobDocument>): RunView {
  const steps = run.steps.map((step) =>
    stepView(step, step.jobId ? jobs.get(String(step.jobId)) : undefined),
  );
  let status: string = run.status;
  if (run.status === "scheduled") {
    if (steps.some((step) => step.status === "failed")) status = "failed";
    else if (steps.some((step) => step.jobId && UNFINISHED.has(step.status))) status = "running";
    else status = "completed";
  }
  return {
    id: String(run._id),
    automationId: String(run.automationId),
    trigger: run.trigger,
    eventId: run.eventId,
    eventType: run.eventType,
    leadId: String(run.leadId),
    appointmentId: run.appointmentId ? String(run.appointmentId) : null,
    depth: run.depth,
    status,
    reason: run.reason,
    createdAt: run.createdAt.toISOString(),
    steps,
  };
}

export function createAutomationService(deps: CrmServiceDeps): AutomationService {
  const now = deps.now ?? (() => new Date());
  const { tenantConnections, queue } = deps;

  async function requireAutomation(db: Db, id: string): Promise<AutomationDocument> {
    const automation = await createAutomationRepository(db).findById(toObjectId(id));
    if (!automation) throw automationNotFound(id);
    return automation;
  }

  return {
    async create(clientCode, input) {
      const automation = normalizeAutomation(input);
      return tenantConnections.withDb(clientCode, async (db) => {
        if (automation.enabled) await checkTemplates(db, automation.actions);
        const at = now();
        const doc: AutomationDocument = { _id: new ObjectId(), ...automation, createdAt: at, updatedAt: at };
        await createAutomationRepository(db).insert(doc);
        return toAutomationView(doc);
      });
    },

    async list(clientCode, query) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const { items, nextCursor } = await createAutomationRepository(db).list({
          ...query,
          limit: query.limit ?? 50,
        });
        return { automations: items.map(toAutomationView), nextCursor };
      });
    },

    async get(clientCode, id) {
      return tenantConnections.withDb(clientCode, async (db) =>
        toAutomationView(await requireAutomation(db, id)),
      );
    },

    async update(clientCode, id, patch) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const current = await requireAutomation(db, id);
        const triggerChanged = patch.trigger !== undefined && patch.trigger !== current.trigger;
        const merged = normalizeAutomation({
          name: patch.name ?? current.name,
          description: patch.description === undefined ? current.description : patch.description,
          trigger: patch.trigger ?? current.trigger,
          // A new trigger starts from an empty config unless the patch gives one.
          triggerConfig: patch.triggerConfig ?? (triggerChanged ? {} : current.triggerConfig),
          actions: patch.actions ?? current.actions,
          enabled: patch.enabled ?? current.enabled,
        });
        if (merged.enabled && (patch.actions !== undefined || !current.enabled)) {
          await checkTemplates(db, merged.actions);
        }
        const updated = await createAutomationRepository(db).replace(current._id, {
          ...merged,
          updatedAt: now(),
        });
        if (!updated) throw automationNotFound(id);
        return toAutomationView(updated);
      });
    },

    async delete(clientCode, id) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const automation = await requireAutomation(db, id);
        const pendingJobsCancelled = await createAutomationRunRepository(db).cancelScheduledJobs(
          { automationId: automation._id },
          queue,
        );
        await createAutomationRepository(db).delete(automation._id);
        return { id: String(automation._id), deleted: true, pendingJobsCancelled };
      });
    },

    async disableAll(clientCode) {
      return tenantConnections.withDb(clientCode, async (db) => ({
        disabled: await createAutomationRepository(db).disableAll(now()),
      }));
    },

    async runs(clientCode, id, query) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const automation = await requireAutomation(db, id);
        const { items, nextCursor } = await createAutomationRunRepository(db).listByAutomation(
          automation._id,
          {
            limit: query.limit ?? 50,
            ...(query.cursor ? { cursor: query.cursor } : {}),
          },
        );
        const jobIds = items.flatMap((run) => run.steps.flatMap((step) => (step.jobId ? [step.jobId] : [])));
        const jobs = new Map((await queue.getMany(jobIds)).map((job) => [String(job._id), job] as const));
        return { runs: items.map((run) => runView(run, jobs)), nextCursor };
      });
    },

    async customEvent(clientCode, input) {
      return tenantConnections.withDb(clientCode, async (db) => {
        const lead = await createLeadRepository(db).findById(toObjectId(input.leadId));
        if (!lead) throw leadNotFound(input.leadId);
        const at = now();
        const data = { name: input.name.trim(), ...(input.data ? { data: input.data } : {}) };
        const [published] = await publishCrmEvents({ db, queue, clientCode }, [
          { type: "custom_event", leadId: lead._id, at, data },
        ]);
        if (!published) throw new Error("custom event was not published");
        return {
          id: published.eventId,
          leadId: String(lead._id),
          type: "custom_event",
          at: at.toISOString(),
          data,
          jobId: published.jobId,
        };
      });
    },
  };
}
