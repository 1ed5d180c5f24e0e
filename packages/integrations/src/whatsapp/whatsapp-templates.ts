import type { Db } from "mongodb";
import { WHATSAPP_TEMPLATES_COLLECTION } from "./whatsapp-capability.js";

/** A template as synced from Meta into the tenant collection `whatsapp_templates`. */
export interface WhatsappTemplateDocument {
  name: string;
  language: string;
  /** Meta's review status: APPROVED, PENDING, REJECTED, PAUSED, DISABLED … */
  status: string;
  category: string;
  components: TemplateComponent[];
  /** Meta's template id. */
  id: string;
  syncedAt: Date;
}

export interface TemplateComponent {
  type: string;
  format?: string;
  text?: string;
  [key: string]: unknown;
}

export function templatesOf(db: Db) {
  return db.collection<WhatsappTemplateDocument>(WHATSAPP_TEMPLATES_COLLECTION);
}

/** Placeholders (`{{1}}`, `{{first_name}}`) in a text, each counted once. */
function placeholders(text: string | undefined): number {
  if (!text) return 0;
  return new Set([...text.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g)].map((match) => match[1])).size;
}

/** How many body and header (text) parameters a template takes. */
export function parameterCounts(template: Pick<WhatsappTemplateDocument, "components">): {
  body: number;
  header: number;
} {
  const components = template.components ?? [];
  const body = components.find((component) => component.type?.toUpperCase() === "BODY");
  const header = components.find((component) => component.type?.toUpperCase() === "HEADER");
  const headerIsText = header && (header.format === undefined || header.format.toUpperCase() === "TEXT");
  return { body: placeholders(body?.text), header: headerIsText ? placeholders(header?.text) : 0 };
}
