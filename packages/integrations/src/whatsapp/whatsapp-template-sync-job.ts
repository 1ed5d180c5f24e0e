import { AppError, permanentFailure } from "@ecodrix/platform";
import { defineJob, enqueueJob } from "@ecodrix/queue";
import { createGraphClient } from "./graph-client.js";
import { GraphApiError, isAuthError, mapGraphError, WhatsappErrorCode } from "./whatsapp-errors.js";
import { type WhatsappJobDeps, whatsappSecretsOf } from "./whatsapp-job-deps.js";
import {
  templateSyncDedupeKey,
  whatsappTemplateSyncAllContract,
  whatsappTemplateSyncContract,
} from "./whatsapp-sync-contracts.js";
import { type TemplateComponent, templatesOf, type WhatsappTemplateDocument } from "./whatsapp-templates.js";

/** The result of `whatsapp_template_sync`. */
export interface TemplateSyncResult {
  added: number;
  updated: number;
  removed: number;
  total: number;
}

interface GraphTemplate {
  id?: string;
  name?: string;
  language?: string;
  status?: string;
  category?: string;
  components?: TemplateComponent[];
}

interface GraphTemplatePage {
  data?: GraphTemplate[];
  paging?: { next?: string };
}

/** A runaway `paging.next` chain (Meta pages 100 at a time; WABAs hold at most a few thousand templates). */
const MAX_PAGES = 500;

/**
 * `whatsapp_template_sync`: every page of `GET /{whatsappBusinessId}/message_templates` (following
 * `paging.next`) into `whatsapp_templates`, one document per (name, language); templates Meta no longer
 * returns are removed. Nothing is written unless every page was read: a failed page leaves the previous
 * sync's templates untouched.
 */
export const whatsappTemplateSyncJob = defineJob({
  ...whatsappTemplateSyncContract,
  create: (deps: WhatsappJobDeps) => {
    return async ({ job, log }): Promise<TemplateSyncResult> => {
      const clientCode = job.clientCode;
      if (!clientCode) {
        throw permanentFailure(
          WhatsappErrorCode.notConfigured,
          "whatsapp_template_sync needs the job's clientCode",
        );
      }
      const secrets = await whatsappSecretsOf(deps, clientCode, "businessId");
      const graph = createGraphClient(deps.config.whatsapp, secrets.token);
      const fetched = new Map<string, GraphTemplate>();
      let next: string | undefined =
        `${encodeURIComponent(secrets.businessId as string)}/message_templates?limit=100&fields=id,name,language,status,category,components`;
      try {
        for (let page = 0; next; page++) {
          if (page >= MAX_PAGES) throw new Error(`more than ${MAX_PAGES} pages of templates; stopped`);
          const answer: GraphTemplatePage = await graph.call<GraphTemplatePage>("GET", next);
          for (const template of answer.data ?? []) {
            if (!template.name || !template.language) continue;
            fetched.set(`${template.name}\u0000${template.language}`, template);
          }
          next = answer.paging?.next;
        }
      } catch (error) {
        if (error instanceof GraphApiError) {
          if (isAuthError(error)) {
            await deps.tenancy.clients.setIntegrationStatus(clientCode, "whatsappStatus", "invalid_token");
          }
          throw mapGraphError(error);
        }
        throw new AppError(
          WhatsappErrorCode.unavailable,
          `Graph API unreachable: ${error instanceof Error ? error.message : String(error)}`,
          502,
          { retryable: true, cause: error },
        );
      }

      return deps.tenancy.tenantConnections.withDb(clientCode, async (db) => {
        const templates = templatesOf(db);
        const existing = new Map(
          (await templates.find({}).toArray()).map((doc) => [`${doc.name}\u0000${doc.language}`, doc]),
        );
        const syncedAt = deps.clock();
        let added = 0;
        let updated = 0;
        const writes = [...fetched.values()].map((template) => {
          const doc: WhatsappTemplateDocument = {
            name: template.name as string,
            language: template.language as string,
            status: String(template.status ?? "UNKNOWN").toUpperCase(),
            category: String(template.category ?? ""),
            components: template.components ?? [],
            id: String(template.id ?? ""),
            syncedAt,
          };
          const before = existing.get(`${doc.name}\u0000${doc.language}`);
          if (!before) added++;
          else if (
            before.status !== doc.status ||
            before.category !== doc.category ||
            before.id !== doc.id ||
            JSON.stringify(before.components) !== JSON.stringify(doc.components)
          )
            updated++;
          return {
            updateOne: {
              filter: { name: doc.name, language: doc.language },
              update: { $set: doc },
              upsert: true,
            },
          };
        });
        if (writes.length > 0) await templates.bulkWrite(writes, { ordered: false });
        const removed = (await templates.deleteMany({ syncedAt: { $ne: syncedAt } })).deletedCount;
        const result = { added, updated, removed, total: fetched.size };
        log.info(result, "whatsapp_template_sync: templates synced");
        return result;
      });
    };
  },
});

/** `whatsapp_template_sync_all` (cron): one sync job per active client with WhatsApp secrets. */
export const whatsappTemplateSyncAllJob = defineJob({
  ...whatsappTemplateSyncAllContract,
  create: (deps: WhatsappJobDeps) => {
    return async ({ log }): Promise<{ enqueued: number }> => {
      const clients = await deps.tenancy.clients.list();
      let enqueued = 0;
      for (const client of clients) {
        if (client.status !== "active" || !client.datasource.registered) continue;
        if (!client.secretsSet.includes("whatsappToken") || !client.secretsSet.includes("whatsappBusinessId"))
          continue;
        await enqueueJob(deps.queue, whatsappTemplateSyncContract, {
          clientCode: client.clientCode,
          payload: {},
          dedupeKey: templateSyncDedupeKey(client.clientCode),
        });
        enqueued++;
      }
      log.info({ enqueued }, "whatsapp_template_sync_all: syncs enqueued");
      return { enqueued };
    };
  },
});
