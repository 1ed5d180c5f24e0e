import { badRequest } from "@ecodrix/platform";

/**
 * Client codes: 2–40 characters, lowercase letters, digits and single hyphens, starting and ending
 * with a letter or digit. They appear in URLs, headers, logs and tenant database names.
 */
export const CLIENT_CODE_PATTERN = "^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,39}$";
const clientCodeRegex = new RegExp(CLIENT_CODE_PATTERN);
export const CLIENT_CODE_MAX_LENGTH = 40;

export function isValidClientCode(code: string): boolean {
  return clientCodeRegex.test(code);
}

/** Mailbox providers whose domain says nothing about the client. */
const sharedMailDomains = new Set([
  "gmail",
  "googlemail",
  "yahoo",
  "outlook",
  "hotmail",
  "live",
  "msn",
  "icloud",
  "me",
  "aol",
  "proton",
  "protonmail",
  "zoho",
  "yandex",
  "gmx",
  "mail",
  "rediffmail",
]);
/** Second-level labels of country domains (`clinic.co.uk`, `clinic.com.au`). */
const secondLevel = new Set(["co", "com", "org", "net", "ac", "gov", "edu", "nic", "ltd", "plc"]);
/** Words that say nothing about who the client is. */
const honorifics = new Set(["dr", "mr", "mrs", "ms", "prof", "the"]);

function words(text: string): string[] {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

function trimCode(code: string): string {
  return code
    .slice(0, CLIENT_CODE_MAX_LENGTH)
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** The e-mail domain's own label: `sharmaclinic` for contact@sharmaclinic.com or …@sharmaclinic.co.in. */
export function domainLabel(email: string): string | undefined {
  const domain = email.split("@")[1]?.toLowerCase();
  if (!domain) return undefined;
  const labels = domain.split(".").filter(Boolean);
  labels.pop(); // the top-level domain
  if (labels.length > 1 && secondLevel.has(labels[labels.length - 1] ?? "")) labels.pop();
  return labels.pop();
}

/**
 * Derives a client code from the name and e-mail:
 * 1. The e-mail domain's label (`contact@sharmaclinic.com` → `sharmaclinic`) when it is not a shared
 *    mailbox provider and it agrees with the name: it contains one of the name's words of 3+ letters
 *    (honorifics such as "Dr." aside). "Dr. Sharma Clinic" + contact@sharmaclinic.com → `sharmaclinic`.
 * 2. Otherwise the name's words, honorifics dropped, joined by hyphens ("Dr. Sharma Clinic" +
 *    sharma@gmail.com → `sharma-clinic`).
 * Letters are folded to ASCII; the result is cut to 40 characters. Undefined when nothing usable is
 * left (the caller then asks for an explicit `clientCode`).
 */
export function deriveClientCode(name: string, email: string): string | undefined {
  const nameWords = words(name).filter((word) => !honorifics.has(word));
  const label = domainLabel(email);
  if (label && !sharedMailDomains.has(label)) {
    const labelCode = trimCode(words(label).join("-"));
    const agrees = nameWords.some((word) => word.length >= 3 && labelCode.replace(/-/g, "").includes(word));
    if (agrees && isValidClientCode(labelCode)) return labelCode;
  }
  const nameCode = trimCode(nameWords.join("-"));
  return isValidClientCode(nameCode) ? nameCode : undefined;
}

export function assertValidClientCode(code: string, field = "clientCode"): void {
  if (!isValidClientCode(code)) {
    throw badRequest(
      "ECODRIX_CLIENT_CODE_INVALID",
      `${field} must be 2-40 lowercase letters, digits or single hyphens, starting and ending with a letter or digit`,
    );
  }
}
