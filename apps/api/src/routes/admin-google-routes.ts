import { clientCodeParamsSchema } from "@ecodrix/domain";
import type { GoogleConnectService } from "@ecodrix/integrations/google-oauth";
import type { FastifyInstance } from "fastify";
import { connectLinkSchema } from "./google-connection-schemas.js";

/** Admin: a Google connect link for any client (runbook §1 step 4). */
export function adminGoogleRoutes(app: FastifyInstance, deps: { google: GoogleConnectService }): void {
  app.post(
    "/api/clients/:clientCode/google/connect-link",
    {
      schema: {
        summary: "Create a Google Calendar connect link for a client",
        description:
          "A signed link, valid for 30 minutes, that connects one Google account to the client (it is used up at the callback; older unused links stay valid). 503 when GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET are not set.",
        tags: ["admin"],
        params: clientCodeParamsSchema,
        response: { 201: connectLinkSchema },
      },
    },
    async (request, reply) => {
      const { clientCode } = request.params as { clientCode: string };
      return reply.status(201).send(await deps.google.createLink(clientCode));
    },
  );
}
