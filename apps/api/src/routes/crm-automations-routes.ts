import {
  type AutomationInput,
  type AutomationPatch,
  type AutomationService,
  automationIdParamsSchema,
  automationListQuerySchema,
  automationViewSchema,
  createAutomationBodySchema,
  customEventBodySchema,
  runListQuerySchema,
  runViewSchema,
  updateAutomationBodySchema,
} from "@ecodrix/crm";
import type { FastifyInstance } from "fastify";
import { tenantOf } from "../plugins/tenant-auth.js";

type IdParams = { id: string };
const tags = ["tenant"];

/** CRM automations (`/api/crm/automations`, runbook §1 step 7) and custom events (`/api/crm/events`). */
export function crmAutomationsRoutes(app: FastifyInstance, deps: { automations: AutomationService }): void {
  const { automations } = deps;

  app.post(
    "/api/crm/automations",
    {
      schema: {
        summary: "Create an automation: a trigger and its actions (runbook §1 step 7)",
        tags,
        body: {
          ...createAutomationBodySchema,
          examples: [
            {
              name: "Appointment Confirmed WA",
              trigger: "appointment_confirmed",
              triggerConfig: {},
              actions: [
                {
                  type: "send_whatsapp",
                  delayMinutes: 0,
                  config: { templateName: "appointment_confirmed", language: "en_US" },
                },
              ],
            },
          ],
        },
        response: { 201: automationViewSchema },
      },
    },
    async (request, reply) => {
      const { clientCode } = tenantOf(request);
      const automation = await automations.create(clientCode, request.body as AutomationInput);
      request.log.info(
        { clientCode, automationId: automation.id, trigger: automation.trigger },
        "automation created",
      );
      return reply.status(201).send(automation);
    },
  );

  app.get(
    "/api/crm/automations",
    {
      schema: {
        summary: "List automations, newest first (trigger, enabled, cursor)",
        tags,
        querystring: automationListQuerySchema,
        response: {
          200: {
            type: "object",
            properties: {
              automations: { type: "array", items: automationViewSchema },
              nextCursor: { type: ["string", "null"] },
            },
          },
        },
      },
    },
    async (request) =>
      automations.list(
        tenantOf(request).clientCode,
        request.query as { trigger?: string; enabled?: boolean; limit?: number; cursor?: string },
      ),
  );

  app.post(
    "/api/crm/automations/disable-all",
    {
      schema: {
        summary: "Disable every automation of the tenant (runbook §10 step 1)",
        tags,
        response: { 200: { type: "object", properties: { disabled: { type: "integer" } } } },
      },
    },
    async (request) => {
      const { clientCode } = tenantOf(request);
      const result = await automations.disableAll(clientCode);
      request.log.info({ clientCode, disabled: result.disabled }, "all automations disabled");
      return result;
    },
  );

  app.get(
    "/api/crm/automations/:id",
    {
      schema: {
        summary: "One automation",
        tags,
        params: automationIdParamsSchema,
        response: { 200: automationViewSchema },
      },
    },
    async (request) => automations.get(tenantOf(request).clientCode, (request.params as IdParams).id),
  );

  app.patch(
    "/api/crm/automations/:id",
    {
      schema: {
        summary: "Change an automation (enabled: false pauses it)",
        tags,
        params: automationIdParamsSchema,
        body: updateAutomationBodySchema,
        response: { 200: automationViewSchema },
      },
    },
    async (request) =>
      automations.update(
        tenantOf(request).clientCode,
        (request.params as IdParams).id,
        request.body as AutomationPatch,
      ),
  );

  app.delete(
    "/api/crm/automations/:id",
    {
      schema: {
        summary: "Delete an automation and cancel its runs' pending steps",
        tags,
        params: automationIdParamsSchema,
        response: {
          200: {
            type: "object",
            properties: {
              id: { type: "string" },
              deleted: { type: "boolean" },
              pendingJobsCancelled: { type: "integer" },
            },
          },
        },
      },
    },
    async (request) => {
      const { clientCode } = tenantOf(request);
      const result = await automations.delete(clientCode, (request.params as IdParams).id);
      request.log.info({ clientCode, automationId: result.id }, "automation deleted");
      return result;
    },
  );

  app.get(
    "/api/crm/automations/:id/runs",
    {
      schema: {
        summary: "An automation's runs, newest first, with each step's job id, status and lastError",
        tags,
        params: automationIdParamsSchema,
        querystring: runListQuerySchema,
        response: {
          200: {
            type: "object",
            properties: {
              runs: { type: "array", items: runViewSchema },
              nextCursor: { type: ["string", "null"] },
            },
          },
        },
      },
    },
    async (request) =>
      automations.runs(
        tenantOf(request).clientCode,
        (request.params as IdParams).id,
        request.query as { limit?: number; cursor?: string },
      ),
  );

  app.post(
    "/api/crm/events",
    {
      schema: {
        summary: "Record a custom event on a lead's timeline; fires custom_event automations of that name",
        tags,
        body: customEventBodySchema,
        response: {
          201: {
            type: "object",
            properties: {
              id: { type: "string" },
              leadId: { type: "string" },
              type: { type: "string" },
              at: { type: "string" },
              data: { type: "object", additionalProperties: true },
              jobId: { type: "string" },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { clientCode } = tenantOf(request);
      const event = await automations.customEvent(
        clientCode,
        request.body as { name: string; leadId: string; data?: Record<string, unknown> },
      );
      return reply.status(201).send(event);
    },
  );
}
