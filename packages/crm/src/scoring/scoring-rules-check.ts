import { badRequest } from "@ecodrix/platform";
import type {
  EventCondition,
  FieldCondition,
  FieldValue,
  RuleCondition,
  ScoringRule,
  ScoringRuleSet,
} from "./scoring-types.js";

export const ScoringErrorCode = {
  invalidRules: "ECODRIX_SCORING_INVALID_RULES",
  leadNotFound: "ECODRIX_LEADS_NOT_FOUND",
} as const;

/**
 * Lead event types a rule's event condition may name: the types the CRM writes to `lead_events`.
 * `score_changed` is left out on purpose (a score depending on its own changes would never settle).
 */
export const SCORING_EVENT_TYPES = [
  "lead_created",
  "message_sent",
  "message_delivered",
  "message_read",
  "message_failed",
  "appointment_booked",
  "appointment_confirmed",
  "appointment_cancelled",
  "appointment_completed",
  "appointment_no_show",
  "stage_changed",
  "tag_added",
  "custom_event",
] as const;

const EVENT_TYPES = new Set<string>(SCORING_EVENT_TYPES);

/** `customFields.<key>`: the key as the CRM allows it in a lead's customFields (no dots, no `$`). */
const CUSTOM_FIELD = /^customFields\.([A-Za-z0-9_-]{1,64})$/;
/**
 * Rule names become keys of the lead's `scoreBreakdown` object in MongoDB: letters (any script, with their marks), digits,
 * spaces and a few marks, starting with a letter or digit (so never `$…`, never dotted, never `__proto__`).
 */
const RULE_NAME = /^[\p{L}\p{N}][\p{L}\p{M}\p{N} _\-:()#/&+']{0,79}$/u;

const invalid = (path: string, message: string) =>
  badRequest(ScoringErrorCode.invalidRules, `${path} ${message}`);

function checkFieldCondition(when: FieldCondition & Partial<EventCondition>, path: string): FieldCondition {
  for (const eventOnly of ["withinDays", "atLeast"] as const) {
    if (when[eventOnly] !== undefined) {
      throw invalid(`${path}/${eventOnly}`, "is only allowed in an event condition (with event)");
    }
  }
  const textOnly = when.field === "source" || when.field === "stage" || when.field === "tags";
  if (!textOnly && !CUSTOM_FIELD.test(when.field)) {
    throw invalid(
      `${path}/field`,
      "must be source, stage, tags or customFields.<key> (key: 1-64 letters, digits, _ or -)",
    );
  }
  const given = (["equals", "in", "exists"] as const).filter((key) => when[key] !== undefined);
  if (given.length !== 1) {
    throw invalid(
      path,
      given.length === 0
        ? "must have one of equals, in or exists"
        : `must have only one of equals, in or exists (has ${given.join(" and ")})`,
    );
  }
  const isText = (value: FieldValue) => typeof value === "string";
  if (textOnly && when.equals !== undefined && !isText(when.equals)) {
    throw invalid(`${path}/equals`, `must be text for ${when.field}`);
  }
  if (textOnly && when.in !== undefined && !when.in.every(isText)) {
    throw invalid(`${path}/in`, `must list text values for ${when.field}`);
  }
  const condition: FieldCondition = { field: when.field };
  if (when.equals !== undefined) condition.equals = when.equals;
  if (when.in !== undefined) condition.in = [...when.in];
  if (when.exists !== undefined) condition.exists = when.exists;
  return condition;
}

function checkEventCondition(when: EventCondition & Partial<FieldCondition>, path: string): EventCondition {
  for (const fieldOnly of ["equals", "in", "exists"] as const) {
    if (when[fieldOnly] !== undefined) {
      throw invalid(`${path}/${fieldOnly}`, "is only allowed in a field condition (with field)");
    }
  }
  if (!EVENT_TYPES.has(when.event)) {
    throw invalid(`${path}/event`, `must be one of ${SCORING_EVENT_TYPES.join(", ")}`);
  }
  if (when.withinDays === undefined) throw invalid(`${path}/withinDays`, "is required in an event condition");
  return {
    event: when.event,
    withinDays: when.withinDays,
    ...(when.atLeast === undefined ? {} : { atLeast: when.atLeast }),
  };
}

function checkCondition(when: RuleCondition, path: string): RuleCondition {
  const both = when as FieldCondition & EventCondition;
  const hasField = both.field !== undefined;
  const hasEvent = both.event !== undefined;
  if (hasField && hasEvent) throw invalid(path, "must have either field or event, not both");
  if (hasField) return checkFieldCondition(both, path);
  if (hasEvent) return checkEventCondition(both, path);
  throw invalid(path, "must have field (a field condition) or event (an event condition)");
}

/**
 * The semantic checks of a rule set the body schema has already type-checked (scoring-rules-schemas.ts).
 * Returns a clean copy (only the documented fields); throws a 400 naming the offending field.
 */
export function checkScoringRuleSet(body: ScoringRuleSet): ScoringRuleSet {
  const names = new Map<string, number>();
  const rules = body.rules.map((rule, index): ScoringRule => {
    const path = `body/rules/${index}`;
    if (!RULE_NAME.test(rule.name)) {
      throw invalid(
        `${path}/name`,
        "must start with a letter or digit and hold only letters, digits, spaces and _ - : ( ) # / & + ' (at most 80)",
      );
    }
    const earlier = names.get(rule.name);
    if (earlier !== undefined) throw invalid(`${path}/name`, `repeats the name of body/rules/${earlier}`);
    names.set(rule.name, index);
    if (!Number.isFinite(rule.points)) throw invalid(`${path}/points`, "must be a finite number");
    return { name: rule.name, when: checkCondition(rule.when, `${path}/when`), points: rule.points };
  });
  return body.decay ? { rules, decay: { halfLifeDays: body.decay.halfLifeDays } } : { rules };
}
