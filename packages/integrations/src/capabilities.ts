import type { Capability } from "@ecodrix/domain";
import { emailCapability } from "./email/email-capability.js";
import { googleCapability } from "./google/google-capability.js";
import { messageLogCapability } from "./message-log/message-log-capability.js";
import { webhooksCapability } from "./webhooks/webhooks-capability.js";
import { whatsappCapability } from "./whatsapp/whatsapp-capability.js";

/**
 * Every integration's secret fields, offboarding steps and encrypted collections. Light modules only:
 * the API imports this without loading any provider's client library.
 */
export const integrationCapabilities: readonly Capability[] = [
  whatsappCapability,
  emailCapability,
  webhooksCapability,
  googleCapability,
  messageLogCapability,
];
