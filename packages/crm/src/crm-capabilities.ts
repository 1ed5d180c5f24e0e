import type { Capability } from "@ecodrix/domain";
import { appointmentsCapability } from "./appointments/appointments-capability.js";
import { automationsCapability } from "./automations/automations-capability.js";
import { leadEventsCapability } from "./events/events-capability.js";
import { leadsCapability } from "./leads/leads-capability.js";
import { scoringCapability } from "./scoring/scoring-capability.js";

/**
 * The CRM's tenant-database collections and their indexes (leads, lead events, appointments,
 * automations and their runs): each CRM module adds its capability here. Offboarding needs no step of
 * its own: it cancels every pending job of the client, automation actions included.
 */
export const crmCapabilities: readonly Capability[] = [
  leadsCapability,
  leadEventsCapability,
  appointmentsCapability,
  automationsCapability,
  scoringCapability,
];
