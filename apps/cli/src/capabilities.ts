import type { CapabilityRegistry } from "@ecodrix/domain";

/**
 * The product's capabilities (integrations, CRM) as the API and the worker register them: their secret
 * fields and value types, their encrypted collections. Loaded on use, so commands that need neither
 * start without them.
 */
export async function loadProductCapabilities(): Promise<CapabilityRegistry> {
  const [{ createCapabilityRegistry }, { integrationCapabilities }, { crmCapabilities }] = await Promise.all([
    import("@ecodrix/domain"),
    import("@ecodrix/integrations"),
    import("@ecodrix/crm"),
  ]);
  return createCapabilityRegistry([...integrationCapabilities, ...crmCapabilities]);
}
