// The WhatsApp integration's worker side (`@ecodrix/integrations/whatsapp`): the Graph API client (undici)
// and the job definitions. Producers use the package root (contracts) only.
export * from "./graph-client.js";
export * from "./send-whatsapp-job.js";
export * from "./whatsapp-errors.js";
export * from "./whatsapp-job-deps.js";
export * from "./whatsapp-template-sync-job.js";
export * from "./whatsapp-webhook-job.js";
