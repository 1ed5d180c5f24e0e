import { describe, expect, it } from "vitest";
import { formatRecord, formatTable, printable } from "./table-format.js";

describe("human output", () => {
  it("shows control characters of untrusted text as visible escapes (no terminal escape sequences run)", () => {
    expect(printable("Evil\u001b]0;owned\u0007 Clinic\r\n")).toBe("Evil\\x1b]0;owned\\x07 Clinic\\x0d\\x0a");
    expect(printable("<img src=x onerror=alert(1)>")).toBe("<img src=x onerror=alert(1)>");
    expect(printable(null)).toBe("-");
  });

  it("pads columns to the widest cell, with no trailing spaces", () => {
    expect(
      formatTable(
        ["code", "n", "note"],
        [
          ["a", 1, "x"],
          ["longer-code", 22, ""],
        ],
      ),
    ).toEqual(["code         n   note", "a            1   x", "longer-code  22"]);
    expect(
      formatRecord([
        ["status", "active"],
        ["secretsSet", "none"],
      ]),
    ).toEqual(["status      active", "secretsSet  none"]);
  });
});
