import type { ObjectId } from "mongodb";

export type ClientStatus = "active" | "suspended";

/** A tenant in the central `clients` collection. The API key is kept only as its SHA-256 hash. */
export interface ClientDocument {
  _id: ObjectId;
  clientCode: string;
  name: string;
  email: string;
  status: ClientStatus;
  /** SHA-256 of the API key, hex. Unique. */
  apiKeyHash: string;
  /** The key's first characters (`ecx_live_ab12`), so an operator can tell keys apart; not secret. */
  apiKeyHint: string;
  apiKeyCreatedAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** The secret fields of runbook §1 step 2. */
export const SECRET_FIELDS = [
  "whatsappToken",
  "whatsappBusinessId",
  "whatsappPhoneNumberId",
  "whatsappWebhookToken",
  "smtpHost",
  "smtpPort",
  "smtpUser",
  "smtpPass",
  "smtpFrom",
  "automationWebhookSecret",
] as const;

export type SecretField = (typeof SECRET_FIELDS)[number];

/** Decrypted secrets, for the worker's integrations. Missing fields are not set. */
export interface ClientSecrets {
  whatsappToken?: string;
  whatsappBusinessId?: string;
  whatsappPhoneNumberId?: string;
  whatsappWebhookToken?: string;
  smtpHost?: string;
  smtpPort?: number;
  smtpUser?: string;
  smtpPass?: string;
  smtpFrom?: string;
  automationWebhookSecret?: string;
}

/** What the admin API shows of a client: never a key, hash or secret value. */
export interface ClientView {
  clientCode: string;
  name: string;
  email: string;
  status: ClientStatus;
  apiKeyHint: string;
  apiKeyCreatedAt: string;
  secretsSet: SecretField[];
  datasource: { registered: boolean; dbName: string | null };
  corsOrigins: string[];
  createdAt: string;
  updatedAt: string;
}

export interface CreateClientInput {
  name: string;
  email: string;
  clientCode?: string;
}

export interface UpdateClientInput {
  name?: string;
  email?: string;
  status?: ClientStatus;
}
