import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { permanentFailure } from "@ecodrix/platform";

/**
 * Where the worker may send a client's traffic (webhook URLs, SMTP hosts). A client controls those
 * host names, so without this check a webhook could reach the worker's own network (metadata
 * endpoints, the database, internal admin ports). The check runs on the *resolved* address at send
 * time, and callers connect to that same address, so a DNS answer that changes between the check
 * and the connection (DNS rebinding) cannot slip a private address through.
 */
const blocked = new BlockList();
// IPv4: "this" network, private, carrier-grade NAT, loopback, link-local, IETF, test nets, benchmarking, multicast, reserved.
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
// IPv6: unspecified, loopback, IPv4-mapped (checked again as IPv4 below), NAT64, discard, documentation, unique-local, link-local, multicast.
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

/** True when `address` (an IP literal) is loopback, private, link-local or otherwise not a public unicast address. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return blocked.check(mapped[1], "ipv4");
  return blocked.check(address, "ipv6");
}

export interface OutboundAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves `host` and returns the address to connect to: the first one, after checking that none of
 * the host's addresses is private (a host with one public and one private address is refused, since
 * the connection could land on either). With `allowPrivateNetworks` (tests, sandbox) every address is
 * allowed. Throws a permanent failure naming the host, never retried: the same host fails again.
 */
export async function resolveOutboundAddress(
  host: string,
  options: { allowPrivateNetworks: boolean; what: string },
): Promise<OutboundAddress> {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  const literal = isIP(bare);
  let addresses: OutboundAddress[];
  if (literal !== 0) {
    addresses = [{ address: bare, family: literal as 4 | 6 }];
  } else {
    try {
      addresses = (await lookup(bare, { all: true, verbatim: true })).map((a) => ({
        address: a.address,
        family: a.family as 4 | 6,
      }));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A name that does not exist will not exist on retry either; a resolver failure may pass.
      if (code === "ENOTFOUND" || code === "ENODATA") {
        throw permanentFailure(
          "ECODRIX_OUTBOUND_HOST_NOT_FOUND",
          `${options.what} host ${bare} does not resolve`,
        );
      }
      throw error;
    }
  }
  const first = addresses[0];
  if (first === undefined) {
    throw permanentFailure(
      "ECODRIX_OUTBOUND_HOST_NOT_FOUND",
      `${options.what} host ${bare} does not resolve`,
    );
  }
  if (!options.allowPrivateNetworks && addresses.some((a) => isNonPublicAddress(a.address))) {
    throw permanentFailure(
      "ECODRIX_OUTBOUND_PRIVATE_ADDRESS",
      `${options.what} host ${bare} resolves to a loopback, private or link-local address; refused (set OUTBOUND_ALLOW_PRIVATE_NETWORKS=true only for tests and the sandbox)`,
    );
  }
  return first;
}
