export * from "./capabilities.js";
export * from "./email/email-capability.js";
export * from "./google/google-capability.js";
export * from "./webhooks/webhooks-capability.js";
export * from "./whatsapp/whatsapp-capability.js";
