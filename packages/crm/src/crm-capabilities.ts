import type { Capability } from "@ecodrix/domain";

/**
 * The CRM's tenant-database collections and their indexes (leads, appointments, automations, …):
 * each CRM module adds its capability here.
 */
export const crmCapabilities: readonly Capability[] = [];
