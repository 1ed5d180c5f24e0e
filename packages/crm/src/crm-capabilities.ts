import type { Capability } from "@ecodrix/domain";
import { scoringCapability } from "./scoring/scoring-capability.js";

/**
 * The CRM's tenant-database collections and their indexes (leads, appointments, automations, …):
 * each CRM module adds its capability here.
 */
export const crmCapabilities: readonly Capability[] = [scoringCapability];
