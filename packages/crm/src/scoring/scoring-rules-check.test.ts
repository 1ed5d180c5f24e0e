import { AppError } from "@ecodrix/platform";
import { describe, expect, it } from "vitest";
import { checkScoringRuleSet } from "./scoring-rules-check.js";
import type { ScoringRuleSet } from "./scoring-types.js";

function messageOf(ruleSet: unknown): string {
  try {
    checkScoringRuleSet(ruleSet as ScoringRuleSet);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).statusCode).toBe(400);
    return (error as AppError).message;
  }
  throw new Error("expected the rule set to be refused");
}
const rule = (when: Record<string, unknown>, name = "r") => ({ rules: [{ name, when, points: 1 }] });

describe("scoring rules check", () => {
  it("accepts every condition kind and returns a clean copy", () => {
    const ruleSet: ScoringRuleSet = {
      rules: [
        { name: "Ads lead", when: { field: "source", equals: "google_ads" }, points: 10 },
        { name: "stage", when: { field: "stage", in: ["qualified", "booked"] }, points: 5 },
        { name: "vip", when: { field: "tags", exists: true }, points: 1 },
        { name: "city", when: { field: "customFields.city_name", equals: "Pune" }, points: 2 },
        { name: "read", when: { event: "message_read", withinDays: 7, atLeast: 2 }, points: 3 },
        { name: "no-show (30d)", when: { event: "appointment_no_show", withinDays: 30 }, points: -20 },
        { name: "पुणे", when: { field: "customFields.insured", equals: true }, points: 4 },
      ],
      decay: { halfLifeDays: 14 },
    };
    expect(checkScoringRuleSet(ruleSet)).toEqual(ruleSet);
    expect(checkScoringRuleSet({ rules: [] })).toEqual({ rules: [] });
  });

  it("names the field of each mistake", () => {
    expect(messageOf(rule({}))).toBe(
      "body/rules/0/when must have field (a field condition) or event (an event condition)",
    );
    expect(messageOf(rule({ field: "stage", event: "message_read", withinDays: 1 }))).toMatch(
      /^body\/rules\/0\/when must have either field or event/,
    );
    expect(messageOf(rule({ field: "phone", equals: "x" }))).toMatch(/^body\/rules\/0\/when\/field must be/);
    expect(messageOf(rule({ field: "customFields.a.b", equals: "x" }))).toMatch(
      /^body\/rules\/0\/when\/field/,
    );
    expect(messageOf(rule({ field: "stage" }))).toBe(
      "body/rules/0/when must have one of equals, in or exists",
    );
    expect(messageOf(rule({ field: "stage", equals: "new", exists: true }))).toBe(
      "body/rules/0/when must have only one of equals, in or exists (has equals and exists)",
    );
    expect(messageOf(rule({ field: "stage", equals: 3 }))).toBe(
      "body/rules/0/when/equals must be text for stage",
    );
    expect(messageOf(rule({ field: "tags", in: ["a", true] }))).toBe(
      "body/rules/0/when/in must list text values for tags",
    );
    expect(messageOf(rule({ field: "stage", equals: "new", withinDays: 3 }))).toMatch(
      /^body\/rules\/0\/when\/withinDays is only allowed in an event condition/,
    );
    expect(messageOf(rule({ event: "message_raed", withinDays: 3 }))).toMatch(
      /^body\/rules\/0\/when\/event must be one of lead_created, message_sent/,
    );
    expect(messageOf(rule({ event: "score_changed", withinDays: 3 }))).toMatch(
      /^body\/rules\/0\/when\/event/,
    );
    expect(messageOf(rule({ event: "message_read" }))).toBe(
      "body/rules/0/when/withinDays is required in an event condition",
    );
    expect(messageOf(rule({ event: "message_read", withinDays: 3, equals: "x" }))).toMatch(
      /^body\/rules\/0\/when\/equals is only allowed in a field condition/,
    );
  });

  it("rule names: unique, safe as breakdown keys", () => {
    const twice = {
      rules: [
        { name: "a", when: { field: "stage", equals: "new" }, points: 1 },
        { name: "a", when: { field: "stage", equals: "won" }, points: 2 },
      ],
    };
    expect(messageOf(twice)).toBe("body/rules/1/name repeats the name of body/rules/0");
    for (const name of ["$where", "a.b", "__proto__", " padded", ""]) {
      expect(messageOf(rule({ field: "stage", equals: "new" }, name))).toMatch(
        /^body\/rules\/0\/name must start/,
      );
    }
  });
});
