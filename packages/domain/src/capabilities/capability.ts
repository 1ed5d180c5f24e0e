import type { Db, IndexDescription } from "mongodb";

/** How a secret's value is typed in the secrets body and when decrypted (stored encrypted as text). */
export type SecretValueType = "string" | "integer" | "boolean";

export interface SecretFieldSpec {
  type: SecretValueType;
  /** The JSON schema the secrets body validates the value with (its `type` must match `type`). */
  schema: Record<string, unknown>;
  /** One line for the API docs and the console. */
  description: string;
  /** A value generated at the client's first secrets write when the body does not give one (shown once). */
  generateIfAbsent?: () => string;
}

/**
 * A state an integration records on the client document when it needs an operator (e.g. `googleStatus:
 * "reconnect_required"` after Google refused the refresh token). Shown on `GET /api/clients/:code`; absent
 * when all is well.
 */
export interface ClientStatusFieldSpec {
  /** The values the field may take (the view's schema enumerates them). */
  values: readonly string[];
  /** One line for the API docs. */
  description: string;
  /**
   * Secret fields whose new value clears the state (e.g. a new `whatsappToken` clears
   * `whatsappStatus: "invalid_token"`): the operator's fix is the signal that all is well again.
   */
  clearedBySecrets?: readonly string[];
}

/** A tenant-database collection's indexes, created on datasource registration and by `tenants migrate`. */
export interface TenantIndexSpec {
  collection: string;
  indexes: IndexDescription[];
}

/** Removes one kind of per-client data from the central database when a client is offboarded. */
export interface OffboardStep {
  /** Names the count in the DELETE response's `deleted` object, e.g. `googleTokens`. */
  name: string;
  run(clientCode: string, centralDb: Db): Promise<number>;
}

/**
 * What a capability (an integration, a CRM module) adds to the lists every capability must extend:
 * its secret fields, its tenant-database indexes, its offboarding steps, its encrypted collections.
 * The apps hand the list of capabilities to the domain; nothing else keeps such lists by hand.
 */
export interface Capability {
  name: string;
  secretFields?: Record<string, SecretFieldSpec>;
  tenantIndexes?: TenantIndexSpec[];
  offboard?: OffboardStep[];
  /** Central collections holding `ecx1:` ciphertexts in documents with `clientCode` (key rotation). */
  encryptedCollections?: string[];
  /** Fields named `<integration>Status` an integration sets on the client document (see ClientStatusFieldSpec). */
  clientStatusFields?: Record<`${string}Status`, ClientStatusFieldSpec>;
}

export function defineCapability<const C extends Capability>(capability: C): C {
  return capability;
}

/** The union of the capabilities' lists, checked once (a name defined twice is a start-up error). */
export interface CapabilityRegistry {
  readonly capabilities: readonly Capability[];
  readonly secretFields: ReadonlyMap<string, SecretFieldSpec>;
  readonly secretFieldNames: readonly string[];
  readonly tenantIndexes: readonly TenantIndexSpec[];
  readonly offboardSteps: readonly OffboardStep[];
  readonly encryptedCollections: readonly string[];
  readonly clientStatusFields: ReadonlyMap<string, ClientStatusFieldSpec>;
}

export function createCapabilityRegistry(capabilities: readonly Capability[]): CapabilityRegistry {
  const secretFields = new Map<string, SecretFieldSpec>();
  const offboardNames = new Set<string>();
  const tenantIndexNames = new Set<string>();
  const statusFields = new Map<string, ClientStatusFieldSpec>();
  for (const capability of capabilities) {
    for (const [name, spec] of Object.entries(capability.clientStatusFields ?? {})) {
      if (statusFields.has(name)) throw new Error(`client status field ${name} is defined twice`);
      statusFields.set(name, spec);
    }
    for (const [name, spec] of Object.entries(capability.secretFields ?? {})) {
      if (secretFields.has(name)) throw new Error(`secret field ${name} is defined twice`);
      const schemaType = spec.schema.type;
      if (schemaType !== spec.type) {
        throw new Error(`secret field ${name}: schema type ${String(schemaType)} is not ${spec.type}`);
      }
      secretFields.set(name, spec);
    }
    for (const step of capability.offboard ?? []) {
      if (offboardNames.has(step.name)) throw new Error(`offboarding step ${step.name} is defined twice`);
      offboardNames.add(step.name);
    }
    // Several modules may index one collection (leads: the CRM's lists and lead scoring's write
    // fence); the same index name twice on one collection is a mistake.
    for (const spec of capability.tenantIndexes ?? []) {
      for (const index of spec.indexes) {
        const key = `${spec.collection}.${index.name ?? JSON.stringify(index.key)}`;
        if (tenantIndexNames.has(key)) {
          throw new Error(
            `tenant collection ${spec.collection} declares index ${index.name ?? "(unnamed)"} twice`,
          );
        }
        tenantIndexNames.add(key);
      }
    }
  }
  return {
    capabilities,
    secretFields,
    secretFieldNames: [...secretFields.keys()],
    tenantIndexes: capabilities.flatMap((capability) => capability.tenantIndexes ?? []),
    offboardSteps: capabilities.flatMap((capability) => capability.offboard ?? []),
    encryptedCollections: [
      ...new Set(capabilities.flatMap((capability) => capability.encryptedCollections ?? [])),
    ],
    clientStatusFields: statusFields,
  };
}

/** The secrets body: one optional property per registered field, nothing else. */
export function secretsBodySchema(registry: Pick<CapabilityRegistry, "secretFields">) {
  return {
    type: "object",
    additionalProperties: false,
    properties: Object.fromEntries(
      [...registry.secretFields].map(([name, spec]) => [
        name,
        { ...spec.schema, description: spec.description },
      ]),
    ),
  } as const;
}

/** A list of secret field names (never values): what a client has set, what a request changed. */
export function secretNamesSchema(registry: Pick<CapabilityRegistry, "secretFieldNames">) {
  return { type: "array", items: { type: "string", enum: [...registry.secretFieldNames] } } as const;
}

/** A stored (decrypted) text back to the field's type. */
export function secretValueOf(spec: SecretFieldSpec, plain: string): string | number | boolean {
  if (spec.type === "integer") return Number(plain);
  if (spec.type === "boolean") return plain === "true";
  return plain;
}
