import type { SecretValueType } from "@ecodrix/domain";
import { UsageError } from "../command.js";

/**
 * Reading the values of `clients secrets` from a JSON file (or stdin) and `--set name=value`. Every
 * message here names fields and positions, never a value: a value may be a password, and a typo must
 * not put it on the screen, in a terminal log or in CI output.
 */

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** The file's JSON object. Node's own JSON.parse message quotes the text around the error: not shown. */
export function parseSecretsFile(text: string, label: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const where = /\(line \d+ column \d+\)/.exec(error instanceof Error ? error.message : "")?.[0];
    throw new UsageError(`${label} is not valid JSON${where ? ` ${where}` : ""}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${label} must hold one JSON object of secret fields, e.g. { "smtpHost": "…" }`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * `--set smtpHost=smtp.gmail.com --set smtpPort=465`: the value is everything after the first `=`, as
 * text (`coerceSecretValues` then types it).
 */
export function parseSetArguments(args: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  args.forEach((arg, index) => {
    const position = `--set number ${index + 1}`;
    const equals = arg.indexOf("=");
    if (equals < 0) {
      throw new UsageError(`${position} has no "=": write --set name=value (the argument is not shown)`);
    }
    const name = arg.slice(0, equals);
    if (!FIELD_NAME.test(name)) {
      throw new UsageError(
        `${position} does not start with a field name: write --set name=value, e.g. --set smtpHost=smtp.gmail.com`,
      );
    }
    if (name in values) throw new UsageError(`--set ${name} is given twice`);
    values[name] = arg.slice(equals + 1);
  });
  return values;
}

/**
 * A field the API takes as an integer (smtpPort) or a boolean is sent as one when it is written as
 * one (`465`, `true`), from `--set` or as a string in the file; anything else is sent as it is, and
 * the API names the field if it refuses it. The types are the capabilities' own (their secret fields).
 */
export function coerceSecretValues(
  values: Record<string, unknown>,
  types: ReadonlyMap<string, { type: SecretValueType }>,
): Record<string, unknown> {
  const typed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    const type = types.get(name)?.type;
    if (typeof value === "string" && type === "integer" && /^[0-9]{1,9}$/.test(value))
      typed[name] = Number(value);
    else if (typeof value === "string" && type === "boolean" && (value === "true" || value === "false"))
      typed[name] = value === "true";
    else typed[name] = value;
  }
  return typed;
}
