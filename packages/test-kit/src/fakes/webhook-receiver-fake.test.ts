import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startWebhookReceiverFake,
  type WebhookReceiverFake,
  webhookReceiverSandboxFake,
} from "./webhook-receiver-fake.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const key = `whsec_${Buffer.from(SECRET, "utf8").toString("base64")}`;

/** Signs as any Standard Webhooks sender does (the library's own signer). */
function signed(body: string, id = "msg_1", at = new Date()) {
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(key).sign(id, at, body),
  };
}

/** The receiver's rules, which the product's delivery tests rely on. */
describe("webhook receiver fake", () => {
  let fake: WebhookReceiverFake;
  beforeAll(async () => {
    fake = await startWebhookReceiverFake();
  });
  afterAll(() => fake.stop());

  it("a good signature gets the scripted answers then 200; a bad or stale one gets 401 `HMAC mismatch`", async () => {
    const endpoint = fake.addEndpoint({ secret: SECRET, answers: [{ status: 500 }] });
    const body = JSON.stringify({ type: "a.b", timestamp: new Date().toISOString(), data: { x: 1 } });
    const first = await fetch(endpoint.url, { method: "POST", headers: signed(body), body });
    expect(first.status).toBe(500);
    const second = await fetch(endpoint.url, { method: "POST", headers: signed(body), body });
    expect(second.status).toBe(200);
    const tampered = await fetch(endpoint.url, { method: "POST", headers: signed(body), body: `${body} ` });
    expect(tampered.status).toBe(401);
    expect(await tampered.text()).toBe("HMAC mismatch");
    const stale = await fetch(endpoint.url, {
      method: "POST",
      headers: signed(body, "msg_2", new Date(Date.now() - 10 * 60_000)),
      body,
    });
    expect(stale.status).toBe(401);
    expect(fake.deliveriesTo(endpoint.id).map((delivery) => [delivery.verified, delivery.answered])).toEqual([
      [true, 500],
      [true, 200],
      [false, 401],
      [false, 401],
    ]);
    expect(fake.deliveriesTo(endpoint.id)[0]?.payload).toMatchObject({ type: "a.b", data: { x: 1 } });
  });

  it("endpoints can be added over HTTP (the sandbox's way); unknown ones are 404", async () => {
    const created = await fetch(`${fake.url}/_fake/endpoints`, {
      method: "POST",
      body: JSON.stringify({ secret: SECRET, always: { redirectTo: "https://elsewhere.example/" } }),
    });
    expect(created.status).toBe(201);
    const endpoint = (await created.json()) as { id: string; url: string };
    const body = "{}";
    const answer = await fetch(endpoint.url, {
      method: "POST",
      headers: signed(body),
      body,
      redirect: "manual",
    });
    expect(answer.status).toBe(302);
    expect(answer.headers.get("location")).toBe("https://elsewhere.example/");
    expect((await fetch(`${fake.url}/hooks/ffff`, { method: "POST", body })).status).toBe(404);
    expect((await fetch(`${fake.url}/_fake/endpoints`, { method: "POST", body: "{}" })).status).toBe(400);
  });

  it("in the sandbox its deliveries are outbox messages", async () => {
    const sandboxFake = await webhookReceiverSandboxFake.start();
    try {
      expect(sandboxFake.notes.join("\n")).toContain("/_fake/endpoints");
      const url = sandboxFake.notes[0]?.match(/at (http:\/\/\S+):/)?.[1] ?? "";
      const created = (await (
        await fetch(`${url}/_fake/endpoints`, { method: "POST", body: JSON.stringify({ secret: SECRET }) })
      ).json()) as { url: string };
      const body = JSON.stringify({ type: "webhook.test", timestamp: new Date().toISOString(), data: {} });
      await fetch(created.url, { method: "POST", headers: signed(body, "job42"), body });
      const [message] = sandboxFake.captured();
      expect(message).toMatchObject({
        service: "webhooks",
        kind: "webhook.delivery",
        to: [created.url],
        summary: "webhook.test job42 → 200 (signature verified)",
      });
    } finally {
      await sandboxFake.stop();
    }
  });
});
