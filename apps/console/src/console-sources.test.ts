import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { consoleDistDir, consoleRoot, ensureConsoleBuilt } from "./console-assets.js";

function files(dir: string, extension: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return files(full, extension);
    return extension.test(name) ? [full] : [];
  });
}

/** Ways to turn a string into markup or code, or to keep the token where it must not go. */
const FORBIDDEN: [RegExp, string][] = [
  [/\.innerHTML\b/, "innerHTML"],
  [/\.outerHTML\b/, "outerHTML"],
  [/insertAdjacentHTML/, "insertAdjacentHTML"],
  [/createContextualFragment/, "createContextualFragment"],
  [/document\.write/, "document.write"],
  [/\beval\s*\(/, "eval"],
  [/new\s+Function\b/, "new Function"],
  [/\bsrcdoc\b/, "srcdoc"],
  [/DOMParser/, "DOMParser"],
  [/document\.cookie/, "document.cookie"],
  [/localStorage/, "localStorage (the token belongs in sessionStorage)"],
];

describe("the console's sources and build: data is only ever text", () => {
  beforeAll(async () => {
    await ensureConsoleBuilt();
  });

  it("no source file uses an HTML or code sink, cookies or localStorage", () => {
    const sources = files(path.join(consoleRoot, "web"), /\.ts$/);
    expect(sources.length).toBeGreaterThan(10);
    const findings = sources.flatMap((file) => {
      const text = readFileSync(file, "utf8")
        .split("\n")
        // Comments may name the sinks they avoid.
        .filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line))
        .join("\n");
      return FORBIDDEN.filter(([pattern]) => pattern.test(text)).map(
        ([, what]) => `${path.relative(consoleRoot, file)}: ${what}`,
      );
    });
    expect(findings).toEqual([]);
  });

  it("the built page loads its script and style from files of its own: nothing inline, no other origin", () => {
    const html = readFileSync(path.join(consoleDistDir, "index.html"), "utf8");
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/console\/assets\/[^"]+\.js"/);
      expect(body?.trim()).toBe("");
    }
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const bundles = files(path.join(consoleDistDir, "assets"), /\.js$/).map((file) =>
      readFileSync(file, "utf8"),
    );
    expect(bundles.length).toBeGreaterThan(0);
    for (const bundle of bundles) {
      expect(bundle).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|\beval\(|new Function\(/);
      expect(bundle).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
  });
});
