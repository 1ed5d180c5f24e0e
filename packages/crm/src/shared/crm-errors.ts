import { AppError, badRequest, conflict, notFound } from "@ecodrix/platform";

/** The CRM's error codes (`ECODRIX_CRM_*`). */
export const CrmErrorCode = {
  leadNotFound: "ECODRIX_CRM_LEAD_NOT_FOUND",
  duplicatePhone: "ECODRIX_CRM_DUPLICATE_PHONE",
  invalidPhone: "ECODRIX_CRM_INVALID_PHONE",
  appointmentNotFound: "ECODRIX_CRM_APPOINTMENT_NOT_FOUND",
  invalidTransition: "ECODRIX_CRM_INVALID_TRANSITION",
  notReschedulable: "ECODRIX_CRM_NOT_RESCHEDULABLE",
  automationNotFound: "ECODRIX_CRM_AUTOMATION_NOT_FOUND",
  invalidAutomation: "ECODRIX_CRM_INVALID_AUTOMATION",
  templateNotFound: "ECODRIX_CRM_TEMPLATE_NOT_FOUND",
  invalidCursor: "ECODRIX_CRM_INVALID_CURSOR",
  invalidInput: "ECODRIX_CRM_INVALID_INPUT",
} as const;

export const leadNotFound = (id: string): AppError =>
  notFound(CrmErrorCode.leadNotFound, `Lead ${id} not found`);

export const appointmentNotFound = (id: string): AppError =>
  notFound(CrmErrorCode.appointmentNotFound, `Appointment ${id} not found`);

export const automationNotFound = (id: string): AppError =>
  notFound(CrmErrorCode.automationNotFound, `Automation ${id} not found`);

export const invalidAutomation = (message: string): AppError =>
  badRequest(CrmErrorCode.invalidAutomation, message);

export const invalidCrmInput = (message: string): AppError => badRequest(CrmErrorCode.invalidInput, message);

export function duplicatePhone(existingLeadId: string): AppError {
  return new AppError(
    CrmErrorCode.duplicatePhone,
    `A lead with this phone number already exists: ${existingLeadId}`,
    409,
    { details: { existingLeadId } },
  );
}

export function invalidTransition(from: string, to: string): AppError {
  return conflict(CrmErrorCode.invalidTransition, `Cannot change appointment status from ${from} to ${to}`);
}

/** Runbook §8's text, with the way out beside it. */
export function templateNotFound(name: string, language: string): AppError {
  return new AppError(CrmErrorCode.templateNotFound, `Template not found: ${name} (${language})`, 422, {
    details: {
      hint: "Sync the WhatsApp templates first: POST /api/saas/chat/templates/sync (runbook §1 step 5, §5), then retry.",
    },
  });
}

export function templateNotApproved(name: string, language: string, status: string): AppError {
  return new AppError(
    CrmErrorCode.templateNotFound,
    `Template ${name} (${language}) is ${status}, not APPROVED: WhatsApp sends only approved templates`,
    422,
    {
      details: {
        hint: "Get the template approved in Meta Business Manager, then sync: POST /api/saas/chat/templates/sync (runbook §5).",
      },
    },
  );
}
