import type { ObjectId } from "mongodb";

/** The tenant collection of leads. Lead scoring writes `score`, `scoreBreakdown` and `scoreUpdatedAt`. */
export const LEADS_COLLECTION = "leads";

export type CustomFieldValue = string | number | boolean;

export interface LeadDocument {
  _id: ObjectId;
  name: string;
  /** `name` lowercased: the `q` prefix search runs on it. */
  nameLower: string;
  /** E.164 with `+`; unique per tenant. */
  phone: string;
  email: string | null;
  source: string | null;
  stage: string;
  tags: string[];
  customFields: Record<string, CustomFieldValue>;
  whatsappOptIn: boolean;
  score: number;
  /** Rule name → points (lead scoring). */
  scoreBreakdown: Record<string, number>;
  scoreUpdatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface LeadView {
  id: string;
  name: string;
  phone: string;
  email: string | null;
  source: string | null;
  stage: string;
  tags: string[];
  customFields: Record<string, CustomFieldValue>;
  whatsappOptIn: boolean;
  score: number;
  scoreBreakdown: Record<string, number>;
  scoreUpdatedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CreateLeadInput {
  name: string;
  phone: string;
  email?: string;
  source?: string;
  stage?: string;
  tags?: string[];
  customFields?: Record<string, CustomFieldValue>;
  whatsappOptIn?: boolean;
}

export interface UpdateLeadInput {
  name?: string;
  phone?: string;
  email?: string | null;
  source?: string | null;
  stage?: string;
  /** Replaces the tags; tags not there before fire `tag_added`. */
  tags?: string[];
  addTags?: string[];
  removeTags?: string[];
  /** Merged into the lead's custom fields; a key set to null is removed. */
  customFields?: Record<string, CustomFieldValue | null>;
  whatsappOptIn?: boolean;
}

export interface LeadListQuery {
  stage?: string;
  tag?: string;
  /** Prefix of the name (any case), the phone (E.164, with or without `+`) or the e-mail. */
  q?: string;
  minScore?: number;
  limit?: number;
  cursor?: string;
}

export const DEFAULT_STAGE = "new";

export function toLeadView(doc: LeadDocument): LeadView {
  return {
    id: String(doc._id),
    name: doc.name,
    phone: doc.phone,
    email: doc.email ?? null,
    source: doc.source ?? null,
    stage: doc.stage,
    tags: doc.tags ?? [],
    customFields: doc.customFields ?? {},
    whatsappOptIn: doc.whatsappOptIn !== false,
    score: doc.score ?? 0,
    scoreBreakdown: doc.scoreBreakdown ?? {},
    scoreUpdatedAt: doc.scoreUpdatedAt ? doc.scoreUpdatedAt.toISOString() : null,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}
