/**
 * Which SMTP secret fields a client still has to set before it can send e-mail. Light (no nodemailer):
 * the API refuses a send up front with the same answer the worker would give.
 *
 * smtpHost, smtpPort and smtpFrom are needed; smtpUser and smtpPass go together (a relay that trusts
 * the sender's address may need neither); smtpSecure has a default.
 */
export function missingSmtpSecrets(isSet: (field: string) => boolean): string[] {
  const missing = ["smtpHost", "smtpPort", "smtpFrom"].filter((field) => !isSet(field));
  const user = isSet("smtpUser");
  const pass = isSet("smtpPass");
  if (user && !pass) missing.push("smtpPass");
  if (pass && !user) missing.push("smtpUser");
  return missing;
}

/** The message of a send refused (API) or failed (worker) for lack of SMTP secrets. */
export const emailNotConfiguredMessage = (clientCode: string, missing: readonly string[]) =>
  `E-mail is not configured for ${clientCode}: set ${missing.join(", ")} (runbook §1 step 2)`;

export const EMAIL_NOT_CONFIGURED = "ECODRIX_EMAIL_NOT_CONFIGURED";
