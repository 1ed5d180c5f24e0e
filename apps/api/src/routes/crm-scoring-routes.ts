import {
  LEAD_ID_PATTERN,
  type ScoringRuleSet,
  type ScoringService,
  scoringRuleSetBodySchema,
  storedScoringRulesSchema,
} from "@ecodrix/crm";
import type { FastifyInstance } from "fastify";
import { tenantOf } from "../plugins/tenant-auth.js";
import { jobAcceptedSchema } from "./route-schemas.js";

const acceptedJob = jobAcceptedSchema("Poll GET /api/saas/jobs/:id for its status and result");

const tags = ["tenant"];

/**
 * Lead scoring (runbook §6): the tenant's rules, and recalculation of one lead or all of them. Everything
 * runs in the worker; these routes validate, store and enqueue.
 */
export function crmScoringRoutes(app: FastifyInstance, deps: { scoring: ScoringService }): void {
  app.get(
    "/api/crm/scoring/rules",
    {
      schema: {
        summary: "The tenant's lead scoring rules (version 0 and no rules before the first PUT)",
        tags,
        response: { 200: storedScoringRulesSchema },
      },
    },
    async (request) => deps.scoring.getRules(tenantOf(request).clientCode),
  );

  app.put(
    "/api/crm/scoring/rules",
    {
      schema: {
        summary: "Replace the lead scoring rules (version + 1) and recalculate every lead's score",
        tags,
        body: scoringRuleSetBodySchema,
        response: { 200: storedScoringRulesSchema },
      },
    },
    async (request) => {
      const { clientCode } = tenantOf(request);
      const stored = await deps.scoring.putRules(clientCode, request.body as ScoringRuleSet);
      request.log.info(
        { clientCode, version: stored.version, rules: stored.rules.length, jobId: stored.recalculationJobId },
        "scoring rules stored",
      );
      return stored;
    },
  );

  app.post(
    "/api/crm/scoring/recalculate",
    {
      schema: {
        summary: "Recalculate every lead's score; progress (processed, total) is on the job",
        tags,
        response: { 202: acceptedJob },
      },
    },
    async (request, reply) => {
      const { clientCode } = tenantOf(request);
      return reply.status(202).send(await deps.scoring.recalculateAll(clientCode));
    },
  );

  app.post(
    "/api/crm/scoring/:leadId/recalculate",
    {
      schema: {
        summary: "Recalculate one lead's score; the job's result is { leadId, score, previousScore }",
        tags,
        params: {
          type: "object",
          additionalProperties: false,
          required: ["leadId"],
          properties: { leadId: { type: "string", pattern: LEAD_ID_PATTERN } },
        },
        response: { 202: acceptedJob },
      },
    },
    async (request, reply) => {
      const { clientCode } = tenantOf(request);
      const { leadId } = request.params as { leadId: string };
      return reply.status(202).send(await deps.scoring.recalculateLead(clientCode, leadId));
    },
  );
}
