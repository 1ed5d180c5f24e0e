import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../../test/test-app.js";
import { CONSOLE_CSP } from "./console.js";

describe("the ops console's static files at /console/", () => {
  let api: TestApi;
  let notBuilt: TestApi;
  let root: string;

  beforeAll(async () => {
    // A stand-in build, so this test does not depend on Vite (console-browser.test.ts serves the real one).
    root = mkdtempSync(path.join(tmpdir(), "console-dist-"));
    mkdirSync(path.join(root, "assets"));
    writeFileSync(
      path.join(root, "index.html"),
      '<!doctype html><script type="module" src="/console/assets/index-abc.js"></script>',
    );
    writeFileSync(path.join(root, "assets", "index-abc.js"), "export {};\n");
    api = await startTestApi({ consoleRoot: root });
    notBuilt = await startTestApi({ consoleRoot: path.join(root, "missing") });
  });
  afterAll(async () => {
    await api.close();
    await notBuilt.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("serves index.html with a strict CSP and no caching, without a token (the page holds no data)", async () => {
    const res = await api.app.inject({ method: "GET", url: "/console/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.body).toContain("/console/assets/index-abc.js");
    expect(res.headers["content-security-policy"]).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.headers["cache-control"]).toBe("no-cache");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("/console redirects to /console/; hashed assets are cached for good and carry the CSP", async () => {
    const bare = await api.app.inject({ method: "GET", url: "/console" });
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe("/console/");
    const asset = await api.app.inject({ method: "GET", url: "/console/assets/index-abc.js" });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers["content-type"]).toMatch(/javascript/);
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(asset.headers["content-security-policy"]).toBe(CONSOLE_CSP);
  });

  it("a missing file is a 404 in the product's error format; no path leaves the build directory", async () => {
    const missing = await api.app.inject({ method: "GET", url: "/console/assets/nope.js" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ statusCode: 404, error: "Not Found" });
    for (const url of [
      "/console/../package.json",
      "/console/%2e%2e/package.json",
      "/console/..%2fpackage.json",
    ]) {
      const res = await api.app.inject({ method: "GET", url });
      expect([400, 403, 404], url).toContain(res.statusCode);
      expect(res.body, url).not.toContain("@ecodrix");
    }
  });

  it("the console's routes change nothing about the admin API: it still needs the token", async () => {
    const res = await api.app.inject({ method: "GET", url: "/api/admin/jobs/stats" });
    expect(res.statusCode).toBe(401);
    expect(res.headers["content-security-policy"]).toBeUndefined();
  });

  it("without a build, /console answers 503 saying how to build it", async () => {
    for (const url of ["/console", "/console/", "/console/assets/index-abc.js"]) {
      const res = await notBuilt.app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(503);
      expect(res.json()).toEqual({
        statusCode: 503,
        error: "Service Unavailable",
        message: "The console is not built: run npm run build:console (npm start builds it)",
        code: "ECODRIX_CONSOLE_NOT_BUILT",
      });
    }
  });
});
