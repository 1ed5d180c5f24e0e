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
  /**
   * ISO 3166-1 alpha-2 region of phone numbers written without a country code (the CRM's leads);
   * absent: IN.
   */
  defaultCountry?: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Integration states (capabilities' clientStatusFields), set by the integration, absent when all is well. */
  [statusField: `${string}Status`]: string | undefined;
}

/**
 * Decrypted secrets, for the worker's integrations, by field name (each integration declares its
 * fields and their types in its capability). Missing fields are not set.
 */
export type ClientSecrets = Record<string, string | number | boolean>;

/** Integration states recorded on the client document, e.g. `googleStatus: "reconnect_required"`. */
export type ClientStatusFields = { [field: `${string}Status`]: string };

/** What the admin API shows of a client: never a key, hash or secret value. */
export interface ClientView extends ClientStatusFields {
  clientCode: string;
  name: string;
  email: string;
  status: ClientStatus;
  apiKeyHint: string;
  apiKeyCreatedAt: string;
  secretsSet: string[];
  datasource: { registered: boolean; dbName: string | null };
  corsOrigins: string[];
  defaultCountry: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CreateClientInput {
  name: string;
  email: string;
  clientCode?: string;
  defaultCountry?: string;
}

export interface UpdateClientInput {
  name?: string;
  email?: string;
  status?: ClientStatus;
  /** null clears it (back to IN). */
  defaultCountry?: string | null;
}
