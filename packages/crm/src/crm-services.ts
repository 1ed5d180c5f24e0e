import { type AppointmentService, createAppointmentService } from "./appointments/appointment-service.js";
import { type AutomationService, createAutomationService } from "./automations/automation-service.js";
import type { CrmServiceDeps } from "./crm-service-deps.js";
import { createLeadService, type LeadService } from "./leads/lead-service.js";

export interface CrmServices {
  leads: LeadService;
  appointments: AppointmentService;
  automations: AutomationService;
}

/** The CRM's services for the API, built once from the tenant pool and the queue's producer side. */
export function createCrmServices(deps: CrmServiceDeps): CrmServices {
  return {
    leads: createLeadService(deps),
    appointments: createAppointmentService(deps),
    automations: createAutomationService(deps),
  };
}
