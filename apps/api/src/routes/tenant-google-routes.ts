import type { GoogleConnectService } from "@ecodrix/integrations/google-oauth";
import type { FastifyInstance } from "fastify";
import { tenantOf } from "../plugins/tenant-auth.js";
import { connectLinkSchema } from "./google-connection-schemas.js";

const statusSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    connected: { type: "boolean" },
    email: { type: ["string", "null"], description: "The connected Google account" },
    connectedAt: { type: ["string", "null"], format: "date-time" },
    reconnectRequired: {
      type: "boolean",
      description: "Google refused the stored access (revoked, expired): connect again",
    },
  },
} as const;

/** The tenant's own Google Calendar connection: link, status, disconnect. */
export function tenantGoogleRoutes(app: FastifyInstance, deps: { google: GoogleConnectService }): void {
  app.post(
    "/api/saas/google/connect-link",
    {
      schema: {
        summary: "Create a Google Calendar connect link for your clinic",
        description:
          "A signed link, valid for 30 minutes, to open in a browser as the Google account whose calendar gets the meetings. It connects once; older unused links stay valid.",
        tags: ["tenant"],
        response: { 201: connectLinkSchema },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await deps.google.createLink(tenantOf(request).clientCode)),
  );

  app.get(
    "/api/saas/google",
    {
      schema: {
        summary: "Your Google Calendar connection",
        tags: ["tenant"],
        response: { 200: statusSchema },
      },
    },
    async (request) => deps.google.status(tenantOf(request).clientCode),
  );

  app.delete(
    "/api/saas/google",
    {
      schema: {
        summary: "Disconnect Google Calendar (revoke and forget the token)",
        description:
          "Revokes the refresh token at Google and deletes it. When Google cannot be reached the token is still forgotten, `revoked` is false and `note` says how to remove the access by hand. 404 when nothing is connected.",
        tags: ["tenant"],
        response: {
          200: {
            type: "object",
            additionalProperties: false,
            properties: {
              connected: { type: "boolean" },
              email: { type: "string" },
              revoked: { type: "boolean" },
              note: { type: "string" },
            },
          },
        },
      },
    },
    async (request) => deps.google.disconnect(tenantOf(request).clientCode),
  );
}
