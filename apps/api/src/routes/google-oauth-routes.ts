import type { GoogleConnectService } from "@ecodrix/integrations/google-oauth";
import type { FastifyInstance } from "fastify";
import { sendPage } from "../html/html-page.js";

const htmlResponse = (description: string) => ({
  description,
  content: { "text/html": { schema: { type: "string" } } },
});

const text = { type: "string", maxLength: 4096 } as const;

/**
 * The browser side of runbook §1 step 4 (public: no API key; a signed connect link instead). Both pages
 * answer in HTML whatever happens, since a person reads them; a malformed query is a 400 page too.
 */
export function googleOAuthRoutes(app: FastifyInstance, deps: { google: GoogleConnectService }): void {
  app.get(
    "/api/auth/google/connect",
    {
      attachValidation: true,
      schema: {
        summary: "Open a Google connect link: on to Google's consent screen",
        description:
          "Needs `clientCode` and the signed `token` of a connect link (POST /api/clients/{clientCode}/google/connect-link or POST /api/saas/google/connect-link). Redirects to Google's consent screen (offline access, consent prompt, scopes calendar.events and userinfo.email, a signed state); without a valid link, a 401 page says how to get one.",
        tags: ["public"],
        querystring: { type: "object", properties: { clientCode: text, token: text } },
        response: {
          302: { description: "To Google's consent screen", type: "null" },
          400: htmlResponse("The address is malformed"),
          401: htmlResponse("No valid connect link: how to get one"),
          503: htmlResponse("Google is not configured on this server"),
        },
      },
    },
    async (request, reply) => {
      if (request.validationError) {
        return sendPage(reply, {
          status: 400,
          title: "This address is malformed",
          paragraphs: ["Open the connect link exactly as you received it."],
        });
      }
      const step = await deps.google.startConsent(request.query as { clientCode?: string; token?: string });
      if (step.kind === "page") return sendPage(reply, step.page);
      return reply
        .header("cache-control", "no-store")
        .header("referrer-policy", "no-referrer")
        .redirect(step.url, 302);
    },
  );

  app.get(
    "/api/auth/google/callback",
    {
      attachValidation: true,
      schema: {
        summary: "Google's OAuth redirect: stores the connection",
        description:
          'Exchanges the authorization code, stores the refresh token encrypted with the account\'s e-mail, and shows "Google Calendar connected for <client name> (<clientCode>)". Denied consent, a bad, expired or replayed state answer 400 with a page saying what to do.',
        tags: ["public"],
        querystring: { type: "object", properties: { state: text, code: text, error: text } },
        response: {
          200: htmlResponse("Connected"),
          400: htmlResponse("Not connected: what to do"),
          502: htmlResponse("Google could not be reached"),
          503: htmlResponse("Google is not configured on this server"),
        },
      },
    },
    async (request, reply) => {
      if (request.validationError) {
        return sendPage(reply, {
          status: 400,
          title: "This sign-in response is malformed",
          paragraphs: ["Start again from your connect link."],
        });
      }
      const page = await deps.google.completeConsent(
        request.query as { state?: string; code?: string; error?: string },
      );
      return sendPage(reply, page);
    },
  );
}
