import type { Db } from "mongodb";
import type { ScoringRuleSet, StoredScoringRules } from "./scoring-types.js";

/** Tenant collection holding the tenant's one scoring rule set (document `_id: "current"`). */
export const SCORING_RULES_COLLECTION = "scoring_rules";

interface ScoringRulesDocument extends StoredScoringRules {
  _id: "current";
}

function fromDocument(doc: ScoringRulesDocument): StoredScoringRules {
  return {
    rules: doc.rules,
    ...(doc.decay ? { decay: doc.decay } : {}),
    version: doc.version,
    updatedAt: doc.updatedAt,
  };
}

/** The tenant's stored rule set, or null when none was ever stored. */
export async function loadScoringRules(db: Db): Promise<StoredScoringRules | null> {
  const doc = await db.collection<ScoringRulesDocument>(SCORING_RULES_COLLECTION).findOne({ _id: "current" });
  return doc ? fromDocument(doc) : null;
}

/** Replaces the rule set (a PUT), incrementing its version; returns what is stored now. */
export async function saveScoringRules(
  db: Db,
  ruleSet: ScoringRuleSet,
  now: Date,
): Promise<StoredScoringRules> {
  const doc = await db.collection<ScoringRulesDocument>(SCORING_RULES_COLLECTION).findOneAndUpdate(
    { _id: "current" },
    {
      $set: { rules: ruleSet.rules, updatedAt: now, ...(ruleSet.decay ? { decay: ruleSet.decay } : {}) },
      ...(ruleSet.decay ? {} : { $unset: { decay: "" } }),
      $inc: { version: 1 },
    },
    { upsert: true, returnDocument: "after" },
  );
  if (!doc) throw new Error("storing the scoring rules returned no document");
  return fromDocument(doc);
}
