import {
  type CreateLeadInput,
  createLeadBodySchema,
  idParamsSchema,
  type LeadListQuery,
  type LeadService,
  leadEventsQuerySchema,
  leadEventViewSchema,
  leadListQuerySchema,
  leadViewSchema,
  type UpdateLeadInput,
  updateLeadBodySchema,
} from "@ecodrix/crm";
import type { FastifyInstance } from "fastify";
import { tenantOf } from "../plugins/tenant-auth.js";

type IdParams = { id: string };
const tags = ["tenant"];

/** CRM leads (`/api/crm/leads`): stored in the tenant's own database. */
export function crmLeadsRoutes(app: FastifyInstance, deps: { leads: LeadService }): void {
  const { leads } = deps;

  app.post(
    "/api/crm/leads",
    {
      schema: {
        summary:
          "Create a lead (phone normalised to E.164; a phone already used is a 409 with existingLeadId)",
        tags,
        body: createLeadBodySchema,
        response: { 201: leadViewSchema },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const lead = await leads.create(tenant.clientCode, request.body as CreateLeadInput, {
        defaultCountry: tenant.defaultCountry,
      });
      request.log.info({ clientCode: tenant.clientCode, leadId: lead.id }, "lead created");
      return reply.status(201).send(lead);
    },
  );

  app.get(
    "/api/crm/leads",
    {
      schema: {
        summary: "List leads, newest first (stage, tag, q prefix, minScore, cursor)",
        tags,
        querystring: leadListQuerySchema,
        response: {
          200: {
            type: "object",
            properties: {
              leads: { type: "array", items: leadViewSchema },
              nextCursor: { type: ["string", "null"] },
            },
          },
        },
      },
    },
    async (request) => leads.list(tenantOf(request).clientCode, request.query as LeadListQuery),
  );

  app.get(
    "/api/crm/leads/:id",
    {
      schema: { summary: "One lead", tags, params: idParamsSchema, response: { 200: leadViewSchema } },
    },
    async (request) => leads.get(tenantOf(request).clientCode, (request.params as IdParams).id),
  );

  app.patch(
    "/api/crm/leads/:id",
    {
      schema: {
        summary: "Change a lead (a new stage or tag fires its automations)",
        tags,
        params: idParamsSchema,
        body: updateLeadBodySchema,
        response: { 200: leadViewSchema },
      },
    },
    async (request) => {
      const tenant = tenantOf(request);
      return leads.update(
        tenant.clientCode,
        (request.params as IdParams).id,
        request.body as UpdateLeadInput,
        {
          defaultCountry: tenant.defaultCountry,
        },
      );
    },
  );

  app.delete(
    "/api/crm/leads/:id",
    {
      schema: {
        summary: "Delete a lead, its timeline and appointments; cancels its pending automation steps",
        tags,
        params: idParamsSchema,
        response: {
          200: {
            type: "object",
            properties: {
              id: { type: "string" },
              deleted: { type: "boolean" },
              appointmentsDeleted: { type: "integer" },
              eventsDeleted: { type: "integer" },
              pendingJobsCancelled: { type: "integer" },
            },
          },
        },
      },
    },
    async (request) => {
      const { clientCode } = tenantOf(request);
      const result = await leads.delete(clientCode, (request.params as IdParams).id);
      request.log.info({ clientCode, leadId: result.id }, "lead deleted");
      return result;
    },
  );

  app.get(
    "/api/crm/leads/:id/events",
    {
      schema: {
        summary: "A lead's timeline, newest first",
        tags,
        params: idParamsSchema,
        querystring: leadEventsQuerySchema,
        response: {
          200: {
            type: "object",
            properties: {
              events: { type: "array", items: leadEventViewSchema },
              nextCursor: { type: ["string", "null"] },
            },
          },
        },
      },
    },
    async (request) =>
      leads.events(
        tenantOf(request).clientCode,
        (request.params as IdParams).id,
        request.query as { limit?: number; cursor?: string; type?: string },
      ),
  );
}
