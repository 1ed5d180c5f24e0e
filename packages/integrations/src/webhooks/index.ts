// The signed webhooks' worker side (`@ecodrix/integrations/webhooks`): the sender (undici) and the job
// definitions. Producers and the API use the package root (contracts, subscriptions, signature).
export * from "./deliver-webhook-job.js";
export * from "./webhook-event-job.js";
export * from "./webhook-sender.js";
export * from "./webhooks-job-deps.js";
