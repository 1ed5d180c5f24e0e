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
        body: createClientBodySchema,
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
        response: {
          200: { type: "object", properties: { clients: { type: "array", items: clientViewSchema } } },
        },
      },
    },
    async () => ({ clients: await clients.list() }),
  );

  app.get(
    "/api/clients/:clientCode",
    { schema: { params: clientCodeParamsSchema, response: { 200: clientViewSchema } } },
    async (request) => clients.get((request.params as CodeParams).clientCode),
  );

  app.patch(
    "/api/clients/:clientCode",
    {
      schema: {
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
        params: clientCodeParamsSchema,
        body: secretsBodySchema(capabilities),
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
        params: clientCodeParamsSchema,
        body: datasourceBodySchema,
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
