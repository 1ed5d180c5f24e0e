import { defineCapability, SINGLE_LINE_TEXT_PATTERN } from "@ecodrix/domain";

/** SMTP e-mail: the client's secret fields (runbook §1 step 2). */
export const emailCapability = defineCapability({
  name: "email",
  secretFields: {
    smtpHost: {
      type: "string",
      schema: { type: "string", minLength: 1, maxLength: 255, pattern: SINGLE_LINE_TEXT_PATTERN },
      description: "SMTP host",
    },
    smtpPort: {
      type: "integer",
      schema: { type: "integer", minimum: 1, maximum: 65535 },
      description: "SMTP port (465: TLS from the start; others: STARTTLS when offered)",
    },
    smtpSecure: {
      type: "boolean",
      schema: { type: "boolean" },
      description:
        "TLS from the start (true) or STARTTLS when the server offers it (false); default: true for port 465, else false",
    },
    smtpUser: {
      type: "string",
      schema: { type: "string", minLength: 1, maxLength: 320, pattern: SINGLE_LINE_TEXT_PATTERN },
      description: "SMTP user",
    },
    smtpPass: {
      type: "string",
      schema: { type: "string", minLength: 1, maxLength: 4096 },
      description: "SMTP password",
    },
    smtpFrom: {
      type: "string",
      // One line: it becomes the From header, where a line break would inject headers of its own.
      schema: { type: "string", minLength: 3, maxLength: 320, pattern: SINGLE_LINE_TEXT_PATTERN },
      description: "From address of the client's e-mails",
    },
  },
});
