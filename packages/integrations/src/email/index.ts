// The e-mail integration's worker side (`@ecodrix/integrations/email`): nodemailer transports and the
// `send_email` job definition. Producers use the package root (contract, settings check) only.
export * from "./email-errors.js";
export * from "./email-job-deps.js";
export * from "./send-email-job.js";
export * from "./smtp-transports.js";
