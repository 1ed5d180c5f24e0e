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
 * `--set smtpHost=smtp.gmail.com --set smtpPort=465`: the value is everything after the first `=`.
 * A field the API takes as an integer (smtpPort) is sent as a number when it is written as one;
 * anything else is sent as text and the API names the field if it refuses it.
 */
export function parseSetArguments(
  args: readonly string[],
  integerFields: ReadonlySet<string>,
): Record<string, string | number> {
  const values: Record<string, string | number> = {};
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
    const value = arg.slice(equals + 1);
    values[name] = integerFields.has(name) && /^[0-9]{1,9}$/.test(value) ? Number(value) : value;
  });
  return values;
}

/** The field names a JSON schema of the secrets body declares as integers. */
export function integerFieldsOf(schema: { properties: Record<string, { type?: unknown }> }): Set<string> {
  return new Set(
    Object.entries(schema.properties)
      .filter(([, property]) => property.type === "integer")
      .map(([name]) => name),
  );
}
