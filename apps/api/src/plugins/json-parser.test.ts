import { describe, expect, it } from "vitest";
import { MAX_BODY_DEPTH } from "./body-guard.js";
import { assertJsonDepth } from "./json-parser.js";

const depthError = (text: string): string | undefined => {
  try {
    assertJsonDepth(text);
    return undefined;
  } catch (error) {
    expect(error).toMatchObject({ statusCode: 400, code: "ECODRIX_VALIDATION_TOO_DEEP" });
    return (error as Error).message;
  }
};

describe("assertJsonDepth (nesting limited while scanning, before JSON.parse)", () => {
  it("accepts exactly MAX_BODY_DEPTH levels and refuses one more, naming the path", () => {
    const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`;
    expect(depthError(nested(MAX_BODY_DEPTH))).toBeUndefined();
    expect(depthError(nested(MAX_BODY_DEPTH + 1))).toBe(
      `body${"/a".repeat(MAX_BODY_DEPTH)} is nested too deeply: bodies may be nested at most ${MAX_BODY_DEPTH} levels`,
    );
  });

  it("names array indexes and escaped keys; brackets, commas and quotes inside strings do not count", () => {
    const inner = `${"[".repeat(MAX_BODY_DEPTH)}${"]".repeat(MAX_BODY_DEPTH)}`;
    const text = `{"s": "[[[{{{,\\"]]", "k\\"ey": [0, "x,y", {"z": ${inner}}]}`;
    expect(depthError(text)).toBe(
      `body/k"ey/2/z${"/0".repeat(MAX_BODY_DEPTH - 3)} is nested too deeply: bodies may be nested at most ${MAX_BODY_DEPTH} levels`,
    );
    expect(depthError(`{"s": "${"[".repeat(100)}"}`)).toBeUndefined();
  });

  it("refuses a 98 KB body nested 49,000 deep at once, even when the rest would not be valid JSON", () => {
    const started = performance.now();
    expect(depthError(`${"[".repeat(49_000)}${"]".repeat(49_000)}`)).toMatch(
      /^body(\/0){32} is nested too deeply/,
    );
    expect(depthError(`${"[".repeat(49_000)} not json`)).toMatch(/^body(\/0){32} is nested too deeply/);
    expect(performance.now() - started).toBeLessThan(50);
  });
});
