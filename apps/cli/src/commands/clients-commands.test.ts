import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createSecretBox, ROTATION_SETTLE_MS } from "@ecodrix/domain";
import { createTestMongo, type TestMongo } from "@ecodrix/test-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiProcess, type CliRun, runCliProcess, startApiProcess } from "../../test/cli-processes.js";

/** A port nothing listens on (it was free a moment ago). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * `ecodrix clients …` as real processes against the real API (its own process, port 0) over the
 * run's embedded database: runbook §1 steps 1–3 and 8, §3 and §10 from the command line.
 */
// Each test starts several CLI processes (about a second each, more on a loaded machine).
describe("ecodrix clients (real CLI processes against a real API process)", { timeout: 120_000 }, () => {
  const adminToken = `cli_${randomBytes(24).toString("hex")}`;
  const encryptionKey = randomBytes(32);
  const box = createSecretBox({ keys: [encryptionKey] });
  // Every secret value the tests send: none may appear in any output of the CLI or the API.
  const secrets = {
    whatsappToken: `EAAG${randomBytes(16).toString("hex")}`,
    whatsappWebhookToken: `verify-${randomBytes(8).toString("hex")}`,
    smtpPass: `pw-${randomBytes(10).toString("hex")}`,
    smtpPassViaSet: `set-${randomBytes(10).toString("hex")}`,
    webhookSecret: randomBytes(32).toString("hex"),
    dbPassword: `dbpw${randomBytes(8).toString("hex")}`,
    inBrokenFile: `broken-${randomBytes(8).toString("hex")}`,
    inMalformedSet: `noeq-${randomBytes(8).toString("hex")}`,
    inUnknownOption: `opt-${randomBytes(8).toString("hex")}`,
    inExtraArgument: `extra-${randomBytes(8).toString("hex")}`,
    googleClientSecret: `gcs-${randomBytes(8).toString("hex")}`,
  };
  let mongo: TestMongo;
  let api: ApiProcess;
  let workDir: string;
  let emptyDataDir: string;
  const runs: CliRun[] = [];
  let apiKey = "";

  /** The CLI with the admin token and the API URL in its environment, like an operator's shell. */
  async function cli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) {
    const run = await runCliProcess(
      args,
      {
        ECODRIX_ADMIN_TOKEN: adminToken,
        ECODRIX_API_URL: api.url,
        ECODRIX_DATA_DIR: emptyDataDir,
        ...options.env,
      },
      options.stdin,
    );
    runs.push(run);
    return run;
  }

  const tenantCall = (key: string, route: string) =>
    fetch(`${api.url}${route}`, { headers: { "x-api-key": key, "x-client-code": "sharmaclinic" } });

  async function storedSecret(clientCode: string, field: string): Promise<string> {
    const doc = await mongo.db.collection("client_secrets").findOne({ clientCode });
    return box.decrypt(String(doc?.[field]), { clientCode, field });
  }

  beforeAll(async () => {
    mongo = await createTestMongo("cli_clients");
    workDir = mkdtempSync(path.join(tmpdir(), "ecodrix-cli-"));
    emptyDataDir = path.join(workDir, "no-data");
    api = await startApiProcess({
      MONGODB_URI: mongo.uri,
      SERVICES_DB_NAME: mongo.dbName,
      CORE_API_TOKEN: adminToken,
      ENCRYPTION_KEY: encryptionKey.toString("hex"),
      LOG_LEVEL: "debug",
      // Connect links need an OAuth client; nothing here calls Google.
      GOOGLE_CLIENT_ID: "cli-test-client.apps.googleusercontent.com",
      GOOGLE_CLIENT_SECRET: secrets.googleClientSecret,
    });
  });

  afterAll(async () => {
    await api?.stop();
    await mongo?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("create prints the key once; list and show as tables and as --json; update suspends and reactivates", async () => {
    const created = await cli([
      "clients",
      "create",
      "--name",
      "Dr. Sharma Clinic",
      "--email",
      "contact@sharmaclinic.com",
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain(
      "created client sharmaclinic (Dr. Sharma Clinic, contact@sharmaclinic.com)",
    );
    apiKey = /API key \(shown once\): (ecx_live_\S+)/.exec(created.stdout)?.[1] ?? "";
    expect(apiKey).toMatch(/^ecx_live_[A-Za-z0-9_-]{43}$/);
    expect(created.stdout).toContain("cannot be retrieved again");
    expect((await tenantCall(apiKey, "/api/saas/cors")).status).toBe(200);

    const beta = await cli([
      "clients",
      "create",
      "--name",
      "Beta Dental",
      "--email",
      "beta@gmail.com",
      "--code",
      "beta-dental",
      "--json",
    ]);
    expect(beta.code, beta.stderr).toBe(0);
    const betaBody = JSON.parse(beta.stdout);
    expect(betaBody).toMatchObject({ clientCode: "beta-dental", name: "Beta Dental", status: "active" });
    expect(betaBody.apiKey).toMatch(/^ecx_live_/);

    const again = await cli([
      "clients",
      "create",
      "--name",
      "Dr. Sharma Clinic",
      "--email",
      "x@sharmaclinic.com",
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(
      "error: ClientCode sharmaclinic already exists (HTTP 409 ECODRIX_CLIENT_CODE_TAKEN)",
    );

    const table = await cli(["clients", "list"]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^code\s+status\s+name\s+email\s+key\s+secrets\s+database\s+cors\s+createdAt$/);
    expect(
      lines.some((line) =>
        /^sharmaclinic\s+active\s+Dr\. Sharma Clinic\s+contact@sharmaclinic\.com/.test(line),
      ),
    ).toBe(true);
    expect(lines.some((line) => line.startsWith("beta-dental "))).toBe(true);
    const listed = await cli(["clients", "list", "--json"]);
    const clients = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(clients.map((client) => client.clientCode).sort()).toEqual(["beta-dental", "sharmaclinic"]);
    expect(listed.stdout).not.toContain(apiKey);

    const shown = await cli(["clients", "show", "sharmaclinic"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^status\s+active$/m);
    expect(shown.stdout).toMatch(/^secretsSet\s+none$/m);
    expect(shown.stdout).toMatch(/^datasource\s+not registered$/m);
    const shownJson = JSON.parse((await cli(["clients", "show", "sharmaclinic", "--json"])).stdout);
    expect(shownJson).toMatchObject({ clientCode: "sharmaclinic", email: "contact@sharmaclinic.com" });
    expect(shownJson.apiKeyHint).toBe(apiKey.slice(0, shownJson.apiKeyHint.length));

    const suspended = await cli(["clients", "update", "sharmaclinic", "--status", "suspended"]);
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(suspended.stdout).toMatch(/^status\s+suspended$/m);
    expect((await tenantCall(apiKey, "/api/saas/cors")).status).toBe(403);
    const active = JSON.parse(
      (await cli(["clients", "update", "sharmaclinic", "--status", "active", "--json"])).stdout,
    );
    expect(active.status).toBe("active");
    expect((await tenantCall(apiKey, "/api/saas/cors")).status).toBe(200);
  });

  it("secrets --from-file and --set: stored encrypted, names printed, values never", async () => {
    const file = path.join(workDir, "secrets.json");
    writeFileSync(
      file,
      JSON.stringify({
        whatsappToken: secrets.whatsappToken,
        whatsappBusinessId: "1234567890",
        whatsappPhoneNumberId: "9876543210",
        whatsappWebhookToken: secrets.whatsappWebhookToken,
        smtpHost: "smtp.gmail.com",
        smtpPort: 465,
        smtpPass: secrets.smtpPass,
        smtpFrom: "Dr. Sharma Clinic <clinic@gmail.com>",
      }),
    );
    const run = await cli([
      "clients",
      "secrets",
      "sharmaclinic",
      "--from-file",
      file,
      "--set",
      "smtpUser=clinic@gmail.com",
      "--set",
      "smtpPort=587",
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^sharmaclinic: updated whatsappToken, .*smtpPass.*automationWebhookSecret$/m);
    // Left out the first time, the webhook secret is generated and shown once (runbook step 8).
    const generated = /automationWebhookSecret \(generated, shown once\): ([0-9a-f]{64})/.exec(
      run.stdout,
    )?.[1];
    expect(generated).toBeDefined();
    expect(await storedSecret("sharmaclinic", "automationWebhookSecret")).toBe(generated);
    expect(await storedSecret("sharmaclinic", "smtpPass")).toBe(secrets.smtpPass);
    expect(await storedSecret("sharmaclinic", "smtpUser")).toBe("clinic@gmail.com");
    // --set wins over the file, and smtpPort is sent as the number the API requires.
    expect(await storedSecret("sharmaclinic", "smtpPort")).toBe("587");

    const viaSet = await cli([
      "clients",
      "secrets",
      "sharmaclinic",
      "--set",
      `smtpPass=${secrets.smtpPassViaSet}`,
      "--json",
    ]);
    expect(viaSet.code, viaSet.stderr).toBe(0);
    const answer = JSON.parse(viaSet.stdout);
    expect(answer.updated).toEqual(["smtpPass"]);
    expect(answer.secretsSet).toHaveLength(10);
    expect(answer).not.toHaveProperty("automationWebhookSecret");
    expect(await storedSecret("sharmaclinic", "smtpPass")).toBe(secrets.smtpPassViaSet);

    const viaStdin = await cli(["clients", "secrets", "sharmaclinic", "--from-file", "-"], {
      stdin: JSON.stringify({ automationWebhookSecret: secrets.webhookSecret }),
    });
    expect(viaStdin.code, viaStdin.stderr).toBe(0);
    expect(viaStdin.stdout).toContain("sharmaclinic: updated automationWebhookSecret");
    expect(await storedSecret("sharmaclinic", "automationWebhookSecret")).toBe(secrets.webhookSecret);

    const shown = await cli(["clients", "show", "sharmaclinic"]);
    expect(shown.stdout).toMatch(/^secretsSet\s+whatsappToken, .*automationWebhookSecret$/m);
  });

  it("datasource: registers the tenant database (URI from an argument or stdin), never printing the URI", async () => {
    const tenantDb = `tenant_${randomBytes(4).toString("hex")}`;
    const dbUri = `${mongo.uri.replace(/\/$/, "")}/${tenantDb}`;
    const run = await cli(["clients", "datasource", "sharmaclinic", "-"], { stdin: `${dbUri}\n` });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(
      `sharmaclinic: tenant database ${tenantDb} registered (reachable; the URI is stored encrypted)`,
    );
    const health = await tenantCall(apiKey, "/api/saas/tenant/health");
    expect(await health.json()).toEqual({ clientCode: "sharmaclinic", database: "up", dbName: tenantDb });

    const json = await cli(["clients", "datasource", "beta-dental", `${dbUri}_beta`, "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({
      clientCode: "beta-dental",
      dbName: `${tenantDb}_beta`,
      registered: true,
    });
    expect(`${run.stdout}${json.stdout}`).not.toContain(mongo.uri.replace(/\/$/, ""));

    // Nothing listens on port 1: the API's ping fails, its 422 is one line, and the password stays unseen.
    const unreachable = await cli([
      "clients",
      "datasource",
      "sharmaclinic",
      `mongodb://ops:${secrets.dbPassword}@127.0.0.1:1/clinic`,
    ]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toMatch(
      /^error: body\/dbUri: cannot connect to the database and ping it within \d+ ms .*\(HTTP 422 ECODRIX_DATASOURCE_UNREACHABLE\)$/,
    );
  });

  it("google-link: prints a signed connect link that the API's connect page accepts", async () => {
    const run = await cli(["clients", "google-link", "sharmaclinic"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^Google connect link for sharmaclinic \(valid until \d{4}-\d\d-\d\dT.*Z\):$/m,
    );
    const url = /^(http\S+)$/m.exec(run.stdout)?.[1] ?? "";
    expect(url).toMatch(/\/api\/auth\/google\/connect\?clientCode=sharmaclinic&token=/);
    // The link really works: the API's connect page sends the browser on to Google's consent screen.
    const link = new URL(url);
    const page = await fetch(`${api.url}${link.pathname}${link.search}`, { redirect: "manual" });
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toContain("client_id=cli-test-client.apps.googleusercontent.com");

    const json = JSON.parse((await cli(["clients", "google-link", "sharmaclinic", "--json"])).stdout);
    expect(json).toMatchObject({
      id: expect.any(String),
      url: expect.stringContaining("clientCode=sharmaclinic"),
    });
    const unknown = await cli(["clients", "google-link", "nosuchclinic"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe("error: ClientCode not found (HTTP 404 ECODRIX_CLIENT_NOT_FOUND)");
  });

  it("rotate-key: the new key is printed once and works; the old one is refused at once", async () => {
    const run = await cli(["clients", "rotate-key", "sharmaclinic"]);
    expect(run.code, run.stderr).toBe(0);
    const newKey = /new API key for sharmaclinic \(shown once\): (ecx_live_\S+)/.exec(run.stdout)?.[1] ?? "";
    expect(newKey).toMatch(/^ecx_live_/);
    expect(run.stdout).toContain("The previous key no longer works");
    expect((await tenantCall(apiKey, "/api/saas/cors")).status).toBe(401);
    expect((await tenantCall(newKey, "/api/saas/cors")).status).toBe(200);

    // A second rotation right away is the API's "one winner per burst" conflict: one line, no key, old key kept.
    const again = await cli(["clients", "rotate-key", "sharmaclinic"]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toMatch(
      /^error: The API key of sharmaclinic was rotated by another request at the same time; .* \(HTTP 409 ECODRIX_CLIENT_KEY_ROTATION_CONFLICT\)$/,
    );
    expect(again.stdout).toBe("");
    expect((await tenantCall(newKey, "/api/saas/cors")).status).toBe(200);

    // Aged past the API's settle window (ROTATION_SETTLE_MS), the key rotates again.
    await mongo.db
      .collection("clients")
      .updateOne(
        { clientCode: "sharmaclinic" },
        { $set: { apiKeyCreatedAt: new Date(Date.now() - ROTATION_SETTLE_MS - 1_000) } },
      );
    const json = JSON.parse((await cli(["clients", "rotate-key", "sharmaclinic", "--json"])).stdout);
    expect(json.clientCode).toBe("sharmaclinic");
    expect((await tenantCall(newKey, "/api/saas/cors")).status).toBe(401);
    apiKey = json.apiKey;
    expect((await tenantCall(apiKey, "/api/saas/cors")).status).toBe(200);
  });

  it("bad input: an unknown client — the API's 404 on one line, exit 1, nothing on stdout", async () => {
    for (const args of [
      ["show", "nosuchclinic"],
      ["secrets", "nosuchclinic", "--set", "smtpHost=smtp.example.org"],
      ["datasource", "nosuchclinic", "mongodb://127.0.0.1:1/x"],
      ["rotate-key", "nosuchclinic"],
      ["delete", "nosuchclinic", "--yes"],
    ]) {
      const run = await cli(["clients", ...args]);
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr.trim(), args.join(" ")).toBe(
        "error: ClientCode not found (HTTP 404 ECODRIX_CLIENT_NOT_FOUND)",
      );
      expect(run.stdout).toBe("");
    }
  });

  it("bad input: a malformed --set or nothing to set — exit 2, the argument not shown", async () => {
    const noEquals = await cli([
      "clients",
      "secrets",
      "sharmaclinic",
      "--set",
      `smtpPass${secrets.inMalformedSet}`,
    ]);
    expect(noEquals.code).toBe(2);
    expect(noEquals.stderr).toContain('error: --set number 1 has no "=": write --set name=value');
    expect(noEquals.stderr).toContain("usage: ecodrix clients secrets <clientCode> [options]");
    const noName = await cli([
      "clients",
      "secrets",
      "sharmaclinic",
      "--set",
      "smtpHost=a",
      "--set",
      `=${secrets.inMalformedSet}`,
    ]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("--set number 2 does not start with a field name");
    const nothing = await cli(["clients", "secrets", "sharmaclinic"]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain("nothing to set: give --from-file <file> and/or --set name=value");
  });

  it("bad input: fields and values the API refuses — its message and code on one line, exit 1", async () => {
    const unknownField = await cli([
      "clients",
      "secrets",
      "sharmaclinic",
      "--set",
      `smtpPassword=${secrets.inMalformedSet}`,
    ]);
    expect(unknownField.code).toBe(1);
    expect(unknownField.stderr.trim()).toBe(
      "error: body/smtpPassword is not an allowed field (HTTP 400 ECODRIX_VALIDATION_FAILED)",
    );
    const notANumber = await cli(["clients", "secrets", "sharmaclinic", "--set", "smtpPort=smtp"]);
    expect(notANumber.code).toBe(1);
    expect(notANumber.stderr.trim()).toBe(
      "error: body/smtpPort must be integer (HTTP 400 ECODRIX_VALIDATION_FAILED)",
    );
  });

  it("bad input: a broken, missing or non-object secrets file — one line, nothing of its content shown", async () => {
    const broken = path.join(workDir, "broken.json");
    writeFileSync(broken, `{\n  "smtpPass": ${secrets.inBrokenFile}\n}\n`);
    const brokenRun = await cli(["clients", "secrets", "sharmaclinic", "--from-file", broken]);
    expect(brokenRun.code).toBe(2);
    expect(brokenRun.stderr).toContain(`error: ${broken} is not valid JSON`);
    const missingFile = await cli([
      "clients",
      "secrets",
      "sharmaclinic",
      "--from-file",
      path.join(workDir, "nope.json"),
    ]);
    expect(missingFile.code).toBe(1);
    expect(missingFile.stderr).toContain("nope.json: no such file");
    const notAnObject = await cli(["clients", "secrets", "sharmaclinic", "--from-file", "-"], {
      stdin: "[1, 2]",
    });
    expect(notAnObject.code).toBe(2);
    expect(notAnObject.stderr).toContain("stdin must hold one JSON object of secret fields");
  });

  it("bad input: unknown options, extra arguments, missing options — exit 2 with the usage, typed values not repeated", async () => {
    const option = await cli(["clients", "secrets", "sharmaclinic", `--smtpPass=${secrets.inUnknownOption}`]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("error: unknown option --smtpPass");
    const extra = await cli([
      "clients",
      "datasource",
      "sharmaclinic",
      "mongodb://127.0.0.1:1/x",
      secrets.inExtraArgument,
    ]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("too many arguments for 'datasource'. Expected 2 arguments but got 3.");
    const missing = await cli(["clients", "create", "--name", "No Mail"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option --email <email> not specified");
    const badEmail = await cli(["clients", "create", "--name", "Bad", "--email", "not-an-email"]);
    expect(badEmail.code).toBe(1);
    expect(badEmail.stderr).toContain('body/email must match pattern "');
  });

  it("the admin token: ECODRIX_ADMIN_TOKEN, else CORE_API_TOKEN, else <ECODRIX_DATA_DIR>/dev.env; else a clear error", async () => {
    const none = await runCliProcess(["clients", "list"], {
      ECODRIX_API_URL: api.url,
      ECODRIX_DATA_DIR: emptyDataDir,
    });
    runs.push(none);
    expect(none.code).toBe(1);
    expect(none.stderr.trim()).toBe(
      `error: no admin token: set ECODRIX_ADMIN_TOKEN (or CORE_API_TOKEN) to the API's CORE_API_TOKEN; locally, \`npm start\` writes one to ${path.join(emptyDataDir, "dev.env")}`,
    );

    const coreToken = await runCliProcess(["clients", "list", "--json"], {
      ECODRIX_API_URL: api.url,
      ECODRIX_DATA_DIR: emptyDataDir,
      CORE_API_TOKEN: adminToken,
    });
    expect(coreToken.code, coreToken.stderr).toBe(0);
    const expected = JSON.parse((await cli(["clients", "list", "--json"])).stdout);
    expect(JSON.parse(coreToken.stdout)).toEqual(expected);

    const dataDir = path.join(workDir, "data");
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir);
    writeFileSync(
      path.join(dataDir, "dev.env"),
      `# generated\nCORE_API_TOKEN=${adminToken}\nENCRYPTION_KEY=x\n`,
    );
    const fromFile = await runCliProcess(["clients", "list", "--json", "--url", api.url], {
      ECODRIX_DATA_DIR: dataDir,
    });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual(expected);

    const wrong = await cli(["clients", "list"], {
      env: { ECODRIX_ADMIN_TOKEN: `wrong_${randomBytes(12).toString("hex")}` },
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe(
      "error: Invalid x-core-api-key (HTTP 401 ECODRIX_AUTH_ADMIN_KEY_INVALID): the admin token came from ECODRIX_ADMIN_TOKEN",
    );

    const closedPort = await freePort();
    const unreachable = await cli(["clients", "list", "--url", `http://127.0.0.1:${closedPort}`]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr.trim()).toBe(
      `error: cannot reach the API at http://127.0.0.1:${closedPort} (ECONNREFUSED): is it running? (--url, default http://localhost:3000)`,
    );
    const badUrl = await cli(["clients", "list", "--url", "localhost:3000"]);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain("--url must be an http:// or https:// URL");
  });

  it("delete asks for --yes without a terminal, then offboards; the client is gone", async () => {
    const refused = await cli(["clients", "delete", "sharmaclinic"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("cannot be undone: add --yes to confirm");
    expect((await cli(["clients", "show", "sharmaclinic"])).code).toBe(0);

    const run = await cli(["clients", "delete", "sharmaclinic", "--yes"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      "deleted sharmaclinic: client record removed, 1 secrets, 1 datasource, 0 CORS origins, 0 Google tokens; 0 pending jobs cancelled",
    );
    expect(run.stdout).toContain("The tenant database was NOT dropped");
    expect((await tenantCall(apiKey, "/api/saas/cors")).status).toBe(401);
    const gone = await cli(["clients", "show", "sharmaclinic"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim()).toBe("error: ClientCode not found (HTTP 404 ECODRIX_CLIENT_NOT_FOUND)");

    const json = JSON.parse((await cli(["clients", "delete", "beta-dental", "-y", "--json"])).stdout);
    expect(json).toMatchObject({
      clientCode: "beta-dental",
      deleted: { client: true },
      tenantDatabaseDropped: false,
    });
    expect(JSON.parse((await cli(["clients", "list", "--json"])).stdout)).toEqual([]);
    expect((await cli(["clients", "list"])).stdout.trim()).toBe("no clients");
  });

  it("no secret value appeared in any output of the CLI or in the API's logs", () => {
    expect(runs.length).toBeGreaterThan(40);
    const everything = `${runs.map((run) => `${run.stdout}\n${run.stderr}`).join("\n")}\n${api.logs()}`;
    // The logs are really there to search (a debug-level API logs every request).
    expect(api.logs()).toContain('"url":"/api/clients/sharmaclinic/secrets"');
    for (const [name, value] of Object.entries(secrets)) {
      expect(everything.includes(value), `${name} was printed`).toBe(false);
    }
  });
});
