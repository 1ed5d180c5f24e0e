import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ADMIN_TOKEN } from "@ecodrix/api/test-app";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleStack, launchChromium, startConsoleStack } from "../test/fixtures/console-harness.js";

const XSS_NAME = "<img src=x onerror=alert(1)>";

interface Session {
  context: BrowserContext;
  page: Page;
  /** Native dialogs (alert/confirm/prompt) the page opened: the console never opens one. */
  dialogs: string[];
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  /** Every URL the page requested (the token must be in none). */
  urls: string[];
  /** Admin requests and whether they carried the token header. */
  apiRequests: { url: string; token: string | undefined }[];
  /** What the Content-Security-Policy blocked. */
  csp: string[];
}

describe("ops console in Chromium (real API, real worker, embedded database)", () => {
  let stack: ConsoleStack;
  let browser: Browser;
  let deadLetterId: string;
  const sessions: Session[] = [];

  beforeAll(async () => {
    stack = await startConsoleStack();
    // A dead letter as a worker leaves one: claimed, failed for good, its error kept. Made before the
    // test's worker starts, so that worker cannot take the job first.
    const job = await stack.api.queue.enqueue({
      type: "echo",
      payload: { message: "back from the dead" },
      maxRetries: 0,
    });
    const claimed = (await stack.api.queue.claim("worker-that-crashed", 10_000))!;
    expect(String(claimed._id)).toBe(String(job._id));
    await stack.api.queue.fail(claimed, {
      message: "SMTP 554 <b>rejected</b> <script>alert(2)</script>",
      code: "ECODRIX_EMAIL_REJECTED",
      retryable: false,
    });
    deadLetterId = String(job._id);
    stack.startWorker();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  afterEach(async () => {
    for (const session of sessions.splice(0)) {
      await session.context.close();
      expect(session.dialogs, "native dialogs opened").toEqual([]);
      expect(session.pageErrors, "uncaught page errors").toEqual([]);
      expect(session.csp, "Content-Security-Policy violations").toEqual([]);
      expect(session.urls.filter((url) => url.includes(ADMIN_TOKEN))).toEqual([]);
    }
  });

  async function open(): Promise<Session> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const session: Session = {
      context,
      page,
      dialogs: [],
      pageErrors: [],
      urls: [],
      apiRequests: [],
      csp: [],
    };
    // Reports what the CSP blocks (an injected inline handler would be) straight to the test, across
    // navigations. The init script runs before the page's own scripts, outside the page's CSP.
    await context.exposeFunction("reportCspViolation", (text: string) => session.csp.push(text));
    await context.addInitScript(
      'document.addEventListener("securitypolicyviolation", (e) => window.reportCspViolation([e.violatedDirective, e.blockedURI, e.sample].join(" ")));',
    );
    page.on("dialog", (dialog) => {
      session.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on("pageerror", (error) => session.pageErrors.push(error.message));
    page.on("request", (request) => {
      session.urls.push(request.url());
      if (new URL(request.url()).pathname.startsWith("/api/")) {
        session.apiRequests.push({ url: request.url(), token: request.headers()["x-core-api-key"] });
      }
    });
    sessions.push(session);
    return session;
  }

  async function signIn(session: Session, hash = ""): Promise<void> {
    await session.page.goto(`${stack.url}/console/${hash}`);
    await session.page.locator("#admin-token").fill(ADMIN_TOKEN);
    await session.page.getByRole("button", { name: "Sign in" }).click();
    await session.page.getByText(/Live · updated/).waitFor();
  }

  const adminFetch = (path: string, init: RequestInit = {}) =>
    fetch(`${stack.url}${path}`, {
      ...init,
      headers: { "x-core-api-key": ADMIN_TOKEN, "content-type": "application/json", ...(init.headers ?? {}) },
    });

  it("log in: a wrong token is refused; the admin token opens the queue, kept in sessionStorage only", async () => {
    const session = await open();
    const { page, context } = session;
    const response = await page.goto(`${stack.url}/console/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");

    await page.locator("#admin-token").fill("not-the-admin-token-0123456789");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("That token was refused").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    await page.locator("#admin-token").fill(ADMIN_TOKEN);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Queue" }).waitFor();
    await page.getByTestId("count-failed").waitFor();
    expect(await page.getByTestId("count-failed").textContent()).toMatch(/failed\s*1/);

    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([ADMIN_TOKEN]);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(await context.cookies()).toEqual([]);
    expect(page.url()).not.toContain(ADMIN_TOKEN);
    const authenticated = session.apiRequests.filter((request) => request.token === ADMIN_TOKEN);
    expect(authenticated.length).toBeGreaterThan(1);

    // A reload keeps the tab's session; signing out forgets the token.
    await page.reload();
    await page.getByRole("heading", { name: "Queue" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.locator("#admin-token").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("a job enqueued through the API appears without a reload, and the worker's completion shows", async () => {
    const session = await open();
    const { page } = session;
    await signIn(session);
    // A mark on this document: still there at the end means the page was never reloaded.
    await page.evaluate("window.sameDocument = true");

    const res = await adminFetch("/api/admin/jobs/echo", {
      method: "POST",
      body: JSON.stringify({ message: "hello console" }),
    });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };

    const row = page.getByTestId("latest-jobs").getByTestId(`job-${jobId}`);
    await row.waitFor({ timeout: 15_000 });
    await expect.poll(() => row.getAttribute("data-status"), { timeout: 15_000 }).toBe("completed");
    expect(await page.evaluate("window.sameDocument")).toBe(true);
    // The throughput chart counts it in the current minute's bar.
    const totals = page.getByTestId("throughput-totals");
    await expect
      .poll(async () => Number(/(\d+) completed/.exec((await totals.textContent()) ?? "")?.[1]), {
        timeout: 10_000,
      })
      .toBeGreaterThanOrEqual(1);
    expect(await page.locator("svg.chart rect.bar-completed").count()).toBeGreaterThan(0);

    // Its detail: the payload and the worker's result, as JSON text.
    await row.getByRole("link", { name: jobId }).click();
    await page.getByRole("heading", { name: `Job ${jobId}` }).waitFor();
    expect(await page.getByTestId("job-payload").textContent()).toContain('"message": "hello console"');
    expect(await page.getByTestId("job-result").textContent()).toContain('"echoed": "hello console"');

    // Running a completed job again: the API refuses (409, saying why), the operator may insist.
    await page.locator(".title-row").getByRole("button", { name: "Requeue" }).click();
    const first = page.getByRole("dialog", { name: "Requeue this job?" });
    await first.getByText("It already completed: it will run again.").waitFor();
    await first.getByRole("button", { name: "Requeue" }).click();
    const refused = page.getByRole("dialog", { name: "The API refused to requeue this job" });
    await refused
      .getByText(`Job ${jobId} is completed: requeueing it would run it again`, { exact: false })
      .waitFor();
    await refused.getByRole("button", { name: "Requeue anyway" }).click();
    await page.getByText(`Job ${jobId} requeued`).waitFor();
    const attempts = page
      .locator("dl.fields dt", { hasText: "Attempts" })
      .locator("xpath=following-sibling::dd[1]");
    await expect.poll(() => attempts.textContent(), { timeout: 15_000 }).toBe("2");
    await expect
      .poll(() => page.locator(".title-row [data-status]").getAttribute("data-status"))
      .toBe("completed");
  });

  it("the overview counts the running workers and warns of pending jobs no worker can run", async () => {
    const orphan = `type_no_worker_defines_${randomBytes(3).toString("hex")}`;
    const job = await stack.api.queue.enqueue({ type: orphan, clientCode: "consoleclinic" });
    try {
      const session = await open();
      await signIn(session);
      const warning = session.page.getByTestId("unhandled-types");
      await expect.poll(() => warning.textContent(), { timeout: 15_000 }).toContain(`${orphan} (1)`);
      await expect
        .poll(async () =>
          Number(await session.page.getByTestId("count-workers").locator(".card-value").textContent()),
        )
        .toBeGreaterThanOrEqual(1);
    } finally {
      await stack.api.queue.jobs.deleteOne({ _id: job._id });
    }
  });

  it("requeue a dead letter (after a confirmation) and watch the worker complete it", async () => {
    const session = await open();
    const { page } = session;
    await signIn(session);
    const row = page.getByTestId("dead-letters").getByTestId(`job-${deadLetterId}`);
    await row.waitFor();
    expect(await row.getAttribute("data-status")).toBe("failed");

    // The error history, as text (markup in an error message stays characters).
    await page.getByTestId("dead-letters").getByText("Error history (1)").click();
    const message = page.getByTestId("dead-letters").locator("pre.error-message");
    expect(await message.textContent()).toBe("SMTP 554 <b>rejected</b> <script>alert(2)</script>");
    await page.getByTestId("dead-letters").getByText("ECODRIX_EMAIL_REJECTED").waitFor();

    // Declining the confirmation changes nothing.
    await row.getByRole("button", { name: "Requeue" }).click();
    const dialog = page.getByRole("dialog", { name: "Requeue this job?" });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(deadLetterId);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    expect(
      ((await (await adminFetch(`/api/admin/jobs/${deadLetterId}`)).json()) as { status: string }).status,
    ).toBe("failed");

    await row.getByRole("button", { name: "Requeue" }).click();
    await dialog.getByRole("button", { name: "Requeue" }).click();
    await page.getByText(`Job ${deadLetterId} requeued`).waitFor();
    await row.waitFor({ state: "detached", timeout: 15_000 });

    await page.goto(`${stack.url}/console/#/jobs/${deadLetterId}`);
    const badge = page.locator(".title-row [data-status]");
    await expect.poll(() => badge.getAttribute("data-status"), { timeout: 15_000 }).toBe("completed");
    expect(await page.getByTestId("job-result").textContent()).toContain('"echoed": "back from the dead"');
    // The earlier failure stays in the history.
    await page.getByText("Error history (1)").waitFor();
  });

  it("rotate a key: the new key is shown once, the old key is refused afterwards", async () => {
    const clientCode = `clinic${randomBytes(3).toString("hex")}`;
    const created = await adminFetch("/api/clients", {
      method: "POST",
      body: JSON.stringify({ name: "Sharma Clinic", email: "ops@sharma.example", clientCode }),
    });
    expect(created.status).toBe(201);
    const { apiKey: oldKey } = (await created.json()) as { apiKey: string };
    const tenantCall = (key: string) =>
      fetch(`${stack.url}/api/saas/cors`, { headers: { "x-client-code": clientCode, "x-api-key": key } });
    expect((await tenantCall(oldKey)).status).toBe(200);

    const session = await open();
    const { page } = session;
    await signIn(session, "#/clients");
    await page.getByTestId(`client-${clientCode}`).getByRole("link", { name: clientCode }).click();
    await page.getByRole("heading", { name: `Client ${clientCode}` }).waitFor();
    await page.getByRole("button", { name: "Rotate key" }).click();
    await page
      .getByRole("dialog", { name: "Rotate this client's API key?" })
      .getByRole("button", { name: "Rotate key" })
      .click();

    const shown = page.getByTestId("new-api-key");
    await shown.waitFor();
    const newKey = (await shown.textContent())?.trim() ?? "";
    expect(newKey.length).toBeGreaterThan(20);
    expect(newKey).not.toBe(oldKey);
    expect((await tenantCall(oldKey)).status).toBe(401);
    expect((await tenantCall(newKey)).status).toBe(200);

    // Live refresh redraws the client but leaves the shown key alone until the operator hides it.
    const stamp = await page.getByTestId("updated").textContent();
    await expect.poll(() => page.getByTestId("updated").textContent(), { timeout: 10_000 }).not.toBe(stamp);
    expect(await shown.textContent()).toBe(newKey);
    const { apiKeyHint } = (await (await adminFetch(`/api/clients/${clientCode}`)).json()) as {
      apiKeyHint: string;
    };
    await page.locator("dl.fields").getByText(apiKeyHint).waitFor();

    // Kept nowhere: not in storage, cookies or any URL; once hidden, gone from the page.
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }))).not.toContain(
      newKey,
    );
    expect(await session.context.cookies()).toEqual([]);
    expect(session.urls.filter((url) => url.includes(newKey))).toEqual([]);
    await page.getByRole("button", { name: /I have saved it/ }).click();
    await shown.waitFor({ state: "detached" });
    expect(await page.content()).not.toContain(newKey);
    await page.goto(`${stack.url}/console/#/clients/${clientCode}`);
    await page.getByRole("heading", { name: `Client ${clientCode}` }).waitFor();
    expect(await page.content()).not.toContain(newKey);
  });

  it(`a client named ${XSS_NAME} is shown as text, and no script runs`, async () => {
    const clientCode = `xss${randomBytes(3).toString("hex")}`;
    const created = await adminFetch("/api/clients", {
      method: "POST",
      body: JSON.stringify({ name: XSS_NAME, email: "xss@example.com", clientCode }),
    });
    expect(created.status).toBe(201);
    const job = await stack.api.queue.enqueue({
      type: "console_test_unknown",
      clientCode,
      payload: { note: XSS_NAME },
      runAt: new Date(Date.now() + 3_600_000),
    });

    const session = await open();
    const { page } = session;
    await signIn(session, "#/clients");
    const name = page.getByTestId(`client-${clientCode}`).locator(".client-name");
    await name.waitFor();
    expect(await name.textContent()).toBe(XSS_NAME);
    expect(await name.evaluate((cell) => cell.childElementCount)).toBe(0);

    await page.getByTestId(`client-${clientCode}`).getByRole("link", { name: clientCode }).click();
    await page.locator("dl.fields .client-name").getByText(XSS_NAME, { exact: true }).waitFor();
    const row = page.getByTestId("client-jobs").getByTestId(`job-${job._id}`);
    await row.getByRole("link", { name: String(job._id) }).click();
    expect(await page.getByTestId("job-payload").textContent()).toContain(`"note": "${XSS_NAME}"`);

    // Give any injected handler time to fire, across a live refresh.
    await sleep(3_500);
    expect(await page.locator("img").count()).toBe(0);
    expect(session.dialogs).toEqual([]);
  });
});
