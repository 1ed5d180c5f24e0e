import {
  type CapabilityRegistry,
  type ClientSecrets,
  type ClientService,
  type CreateClientInput,
  clientCodeParamsSchema,
  clientViewSchemaFor,
  createClientBodySchema,
  datasourceBodySchema,
  secretNamesSchema,
  secretsBodySchema,
  type UpdateClientInput,
  updateClientBodySchema,
} from "@ecodrix/domain";
import type { FastifyInstance } from "fastify";

type CodeParams = { clientCode: string };

const tags = ["admin"];

/**
 * Admin routes for clients (runbook §1 steps 1–3, §3, §10). Registered inside the admin scope, so
 * every route requires `x-core-api-key`. Responses never carry a key hash or a secret value: the
 * response schemas list the allowed fields and Fastify drops everything else.
 */
export function clientsRoutes(
  app: FastifyInstance,
  deps: { clients: ClientService; capabilities: CapabilityRegistry },
): void {
  const { clients, capabilities } = deps;
  const secretNames = secretNamesSchema(capabilities);
  const clientViewSchema = clientViewSchemaFor(capabilities);
  // Values the server generates when absent (automationWebhookSecret): in the response once, then never.
  const generatedFields = [...capabilities.secretFields]
    .filter(([, spec]) => spec.generateIfAbsent)
    .map(([name]) => name);

  app.post(
    "/api/clients",
    {
      schema: {
        summary: "Create a client: its clientCode and API key, shown once (runbook §1 step 1)",
        tags,
        body: {
          ...createClientBodySchema,
          examples: [{ name: "Dr. Sharma Clinic", email: "contact@sharmaclinic.com" }],
        },
        response: {
          201: {
            type: "object",
            properties: {
              ...clientViewSchema.properties,
              apiKey: { type: "string" },
              warning: { type: "string" },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { client, apiKey } = await clients.create(request.body as CreateClientInput);
      return reply.status(201).send({
        ...client,
        apiKey,
        warning: "Save the apiKey now: it is stored only as a hash and cannot be retrieved again.",
      });
    },
  );

  app.get(
    "/api/clients",
    {
      schema: {
        summary: "List clients (no keys, no secret values)",
        tags,
        response: {
          200: { type: "object", properties: { clients: { type: "array", items: clientViewSchema } } },
        },
      },
    },
    async () => ({ clients: await clients.list() }),
  );

  app.get(
    "/api/clients/:clientCode",
    {
      schema: {
        summary: "One client: status, secrets set (names only), datasource, integrations",
        tags,
        params: clientCodeParamsSchema,
        response: { 200: clientViewSchema },
      },
    },
    async (request) => clients.get((request.params as CodeParams).clientCode),
  );

  app.patch(
    "/api/clients/:clientCode",
    {
      schema: {
        summary: "Update a client's name, e-mail, status or settings",
        tags,
        params: clientCodeParamsSchema,
        body: updateClientBodySchema,
        response: { 200: clientViewSchema },
      },
    },
    async (request) =>
      clients.update((request.params as CodeParams).clientCode, request.body as UpdateClientInput),
  );

  app.post(
    "/api/clients/:clientCode/secrets",
    {
      schema: {
        summary:
          "Set a client's secrets, encrypted at rest; the answer names them, never their values (runbook §1 step 2)",
        tags,
        params: clientCodeParamsSchema,
        body: {
          ...secretsBodySchema(capabilities),
          examples: [
            {
              whatsappToken: "EAAG...",
              whatsappBusinessId: "102938475610293",
              whatsappPhoneNumberId: "109876543210987",
              whatsappWebhookToken: "verify-me",
              smtpHost: "smtp.gmail.com",
              smtpPort: 465,
              smtpUser: "clinic@gmail.com",
              smtpPass: "app-password",
              smtpFrom: "Dr. Sharma Clinic <clinic@gmail.com>",
            },
          ],
        },
        response: {
          200: {
            type: "object",
            properties: {
              clientCode: { type: "string" },
              secretsSet: secretNames,
              updated: secretNames,
              ...Object.fromEntries(generatedFields.map((name) => [name, { type: "string" }])),
              warning: { type: "string" },
            },
          },
        },
      },
    },
    async (request) => {
      const result = await clients.setSecrets(
        (request.params as CodeParams).clientCode,
        request.body as ClientSecrets,
      );
      const generated = generatedFields.filter((name) => typeof result[name] === "string");
      return generated.length > 0
        ? {
            ...result,
            warning: `${generated.join(", ")} was generated: share it with the client now (runbook step 8); it is not shown again.`,
          }
        : result;
    },
  );

  app.post(
    "/api/clients/:clientCode/datasource",
    {
      schema: {
        summary: "Register the client's tenant database (runbook §1 step 3)",
        tags,
        params: clientCodeParamsSchema,
        body: {
          ...datasourceBodySchema,
          examples: [{ dbUri: "mongodb+srv://user:password@cluster0.example.mongodb.net/sharmaclinic" }],
        },
        response: {
          200: {
            type: "object",
            properties: {
              clientCode: { type: "string" },
              dbName: { type: "string" },
              registered: { type: "boolean" },
            },
          },
        },
      },
    },
    async (request) => {
      const { dbUri } = request.body as { dbUri: string };
      const result = await clients.setDatasource((request.params as CodeParams).clientCode, dbUri);
      return { ...result, registered: true };
    },
  );

  app.post(
    "/api/clients/:clientCode/rotate-key",
    {
      schema: {
        summary:
          "Rotate a client's API key: the old key stops at once, the new one is shown once (runbook §3)",
        tags,
        params: clientCodeParamsSchema,
        response: {
          200: {
            type: "object",
            properties: {
              clientCode: { type: "string" },
              apiKey: { type: "string" },
              apiKeyHint: { type: "string" },
              warning: { type: "string" },
            },
          },
        },
      },
    },
    async (request) => ({
      ...(await clients.rotateKey((request.params as CodeParams).clientCode)),
      warning: "The previous key no longer works. Save this key now: it cannot be retrieved again.",
    }),
  );

  app.delete(
    "/api/clients/:clientCode",
    {
      schema: {
        summary: "Offboard a client: its records, secrets, datasource and pending jobs (runbook §10)",
        tags,
        params: clientCodeParamsSchema,
        response: {
          200: {
            type: "object",
            properties: {
              clientCode: { type: "string" },
              deleted: {
                type: "object",
                properties: {
                  client: { type: "boolean" },
                  secrets: { type: "integer" },
                  datasource: { type: "integer" },
                  corsOrigins: { type: "integer" },
                  ...Object.fromEntries(
                    capabilities.offboardSteps.map((step) => [step.name, { type: "integer" }]),
                  ),
                },
              },
              pendingJobsCancelled: { type: "integer" },
              finishedJobsAnonymized: { type: "integer" },
              tenantDatabaseDropped: { type: "boolean" },
              note: { type: "string" },
            },
          },
        },
      },
    },
    async (request) => clients.delete((request.params as CodeParams).clientCode),
  );
}
