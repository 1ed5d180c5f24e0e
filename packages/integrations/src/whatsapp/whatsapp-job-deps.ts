import type { ClientService, TenantConnectionPool } from "@ecodrix/domain";
import { type Config, permanentFailure } from "@ecodrix/platform";
import type { ClusterRateLimiter, QueueProducer } from "@ecodrix/queue";
import { WhatsappErrorCode } from "./whatsapp-errors.js";

/** What the WhatsApp job handlers are built from (the worker's WorkerJobDeps has all of it). */
export interface WhatsappJobDeps {
  config: Pick<Config, "whatsapp">;
  tenancy: {
    clients: Pick<ClientService, "getSecrets" | "setIntegrationStatus" | "list">;
    tenantConnections: Pick<TenantConnectionPool, "withDb">;
  };
  queue: Pick<QueueProducer, "enqueue">;
  rateLimiter: ClusterRateLimiter;
  clock: () => Date;
}

export interface WhatsappSecrets {
  token: string;
  businessId: string | undefined;
  phoneNumberId: string | undefined;
}

/** The client's decrypted WhatsApp secrets; permanent failure naming what is missing. */
export async function whatsappSecretsOf(
  deps: Pick<WhatsappJobDeps, "tenancy">,
  clientCode: string,
  need: "phoneNumberId" | "businessId",
): Promise<WhatsappSecrets> {
  const secrets = await deps.tenancy.clients.getSecrets(clientCode);
  const token = secrets.whatsappToken;
  const phoneNumberId = secrets.whatsappPhoneNumberId;
  const businessId = secrets.whatsappBusinessId;
  const neededField = need === "phoneNumberId" ? "whatsappPhoneNumberId" : "whatsappBusinessId";
  const missing = [
    typeof token === "string" ? undefined : "whatsappToken",
    typeof secrets[neededField] === "string" ? undefined : neededField,
  ].filter(Boolean);
  if (missing.length > 0 || typeof token !== "string") {
    throw permanentFailure(
      WhatsappErrorCode.notConfigured,
      `WhatsApp is not configured for ${clientCode}: set ${missing.join(" and ")} (runbook §1 step 2), then requeue`,
    );
  }
  return {
    token,
    businessId: typeof businessId === "string" ? businessId : undefined,
    phoneNumberId: typeof phoneNumberId === "string" ? phoneNumberId : undefined,
  };
}
