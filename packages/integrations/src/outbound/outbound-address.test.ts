import { describe, expect, it } from "vitest";
import { isNonPublicAddress, resolveOutboundAddress } from "./outbound-address.js";

describe("outbound address guard", () => {
  it.each([
    "127.0.0.1",
    "10.1.2.3",
    "172.20.0.1",
    "192.168.1.10",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "not-an-ip",
  ])("refuses %s", (address) => {
    expect(isNonPublicAddress(address)).toBe(true);
  });

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])(
    "allows the public address %s",
    (address) => {
      expect(isNonPublicAddress(address)).toBe(false);
    },
  );

  it("refuses a host name that resolves to loopback, naming the host and the setting", async () => {
    await expect(
      resolveOutboundAddress("localhost", { allowPrivateNetworks: false, what: "Webhook" }),
    ).rejects.toMatchObject({
      code: "ECODRIX_OUTBOUND_PRIVATE_ADDRESS",
      retryable: false,
      message: expect.stringMatching(/Webhook host localhost .*OUTBOUND_ALLOW_PRIVATE_NETWORKS/),
    });
  });

  it("refuses a bracketed IPv6 literal on loopback", async () => {
    await expect(
      resolveOutboundAddress("[::1]", { allowPrivateNetworks: false, what: "SMTP" }),
    ).rejects.toMatchObject({
      code: "ECODRIX_OUTBOUND_PRIVATE_ADDRESS",
    });
  });

  it("allows private addresses when the setting allows them, and returns the address to connect to", async () => {
    await expect(
      resolveOutboundAddress("127.0.0.1", { allowPrivateNetworks: true, what: "SMTP" }),
    ).resolves.toEqual({
      address: "127.0.0.1",
      family: 4,
    });
  });

  it("returns a public literal unchanged", async () => {
    await expect(
      resolveOutboundAddress("8.8.8.8", { allowPrivateNetworks: false, what: "SMTP" }),
    ).resolves.toEqual({
      address: "8.8.8.8",
      family: 4,
    });
  });

  it("fails permanently for a name that does not exist", async () => {
    await expect(
      resolveOutboundAddress("no-such-host.invalid", { allowPrivateNetworks: false, what: "Webhook" }),
    ).rejects.toMatchObject({ code: "ECODRIX_OUTBOUND_HOST_NOT_FOUND", retryable: false });
  });
});
