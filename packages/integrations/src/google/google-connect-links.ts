import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { isDuplicateKeyError } from "@ecodrix/platform";
import type { Collection, Db } from "mongodb";

/**
 * Google connect links and OAuth `state`: signed, expiring, self-contained tokens, so any API process can
 * check them without a lookup. A link is bound to the client (its code and its record's creation time, so a link
 * outlives neither an offboarding nor a re-created client of the same code). A link may be opened more
 * than once; it completes one connection: the callback records its id as used (`google_connect_links`,
 * unique id), and a second completion — a replayed callback, or a second consent through the same link —
 * is refused. A new link does not revoke older unused ones (each is its own id).
 *
 * Format: `<purpose>.<base64url JSON claims>.<base64url HMAC-SHA256>`; the MAC covers the purpose too, so a
 * link cannot be passed off as a state or the reverse. The key is derived from ENCRYPTION_KEY (HKDF).
 */
export const CONNECT_LINK_TTL_MS = 30 * 60 * 1000;
/** The consent screen must be completed within this long after the link is opened. */
export const OAUTH_STATE_TTL_MS = 15 * 60 * 1000;
export const GOOGLE_CONNECT_LINKS_COLLECTION = "google_connect_links";

export interface ConnectLinkClaims {
  clientCode: string;
  /** When the client record was created (ISO): a re-created client of the same code does not inherit links. */
  clientCreatedAt: string;
  linkId: string;
  expiresAt: Date;
}

export type TokenCheck<T> = { ok: true; claims: T } | { ok: false; reason: "invalid" | "expired" };

export interface ConnectLinkSigner {
  issueLink(clientCode: string, clientCreatedAt: string): { token: string; linkId: string; expiresAt: Date };
  /** Checks signature, expiry and that the link was made for `clientCode`. */
  verifyLink(token: string, clientCode: string): TokenCheck<ConnectLinkClaims>;
  /** The OAuth `state` for a consent started from a valid link. */
  issueState(link: ConnectLinkClaims): string;
  verifyState(state: string): TokenCheck<ConnectLinkClaims>;
}

interface WireClaims {
  c: string;
  i: string;
  l: string;
  /** Expiry, unix milliseconds. */
  e: number;
}

function isWireClaims(value: unknown): value is WireClaims {
  const v = value as Partial<WireClaims> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.c === "string" &&
    typeof v.i === "string" &&
    typeof v.l === "string" &&
    typeof v.e === "number"
  );
}

/** `key`: the current ENCRYPTION_KEY (32 bytes); the MAC key is derived from it, never the key itself. */
export function createConnectLinkSigner(deps: { key: Buffer; now?: () => number }): ConnectLinkSigner {
  const macKey = Buffer.from(hkdfSync("sha256", deps.key, "", "ecodrix google connect links v1", 32));
  const now = deps.now ?? Date.now;
  const mac = (purpose: string, body: string) =>
    createHmac("sha256", macKey).update(`${purpose}.${body}`).digest();

  function sign(purpose: string, claims: WireClaims): string {
    const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
    return `${purpose}.${body}.${mac(purpose, body).toString("base64url")}`;
  }

  function verify(purpose: string, token: string): TokenCheck<ConnectLinkClaims> {
    const [prefix, body, signature, extra] = token.split(".");
    if (prefix !== purpose || !body || !signature || extra !== undefined)
      return { ok: false, reason: "invalid" };
    const expected = mac(purpose, body);
    const given = Buffer.from(signature, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: "invalid" };
    }
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
    } catch {
      return { ok: false, reason: "invalid" };
    }
    if (!isWireClaims(claims)) return { ok: false, reason: "invalid" };
    if (claims.e <= now()) return { ok: false, reason: "expired" };
    return {
      ok: true,
      claims: {
        clientCode: claims.c,
        clientCreatedAt: claims.i,
        linkId: claims.l,
        expiresAt: new Date(claims.e),
      },
    };
  }

  return {
    issueLink(clientCode, clientCreatedAt) {
      const linkId = randomBytes(16).toString("hex");
      const expiresAt = now() + CONNECT_LINK_TTL_MS;
      return {
        token: sign("link", { c: clientCode, i: clientCreatedAt, l: linkId, e: expiresAt }),
        linkId,
        expiresAt: new Date(expiresAt),
      };
    },
    verifyLink(token, clientCode) {
      const check = verify("link", token);
      if (check.ok && check.claims.clientCode !== clientCode) return { ok: false, reason: "invalid" };
      return check;
    },
    issueState(link) {
      return sign("state", {
        c: link.clientCode,
        i: link.clientCreatedAt,
        l: link.linkId,
        e: now() + OAUTH_STATE_TTL_MS,
      });
    },
    verifyState(state) {
      return verify("state", state);
    },
  };
}

interface LinkUseDocument {
  _id: string;
  clientCode: string;
  usedAt: Date;
  /**
   * Past any use of the link: it expired at most 30 minutes after it was issued (so after its use), and
   * the last state made from it 15 minutes later. Then the record may go (TTL index).
   */
  expiresAt: Date;
}

/** The used-link records that make a link complete at most one connection. */
export interface ConnectLinkUses {
  ensureIndexes(): Promise<void>;
  isUsed(linkId: string): Promise<boolean>;
  /** Records the link as used; false when it already was (a replay, or a race lost). */
  consume(link: ConnectLinkClaims): Promise<boolean>;
}

export function createConnectLinkUses({ db }: { db: Db }): ConnectLinkUses {
  const uses: Collection<LinkUseDocument> = db.collection(GOOGLE_CONNECT_LINKS_COLLECTION);
  return {
    async ensureIndexes() {
      await uses.createIndex({ expiresAt: 1 }, { name: "expiresAt_ttl", expireAfterSeconds: 0 });
    },
    async isUsed(linkId) {
      return (await uses.countDocuments({ _id: linkId }, { limit: 1 })) > 0;
    },
    async consume(link) {
      try {
        const usedAt = new Date();
        await uses.insertOne({
          _id: link.linkId,
          clientCode: link.clientCode,
          usedAt,
          expiresAt: new Date(usedAt.getTime() + CONNECT_LINK_TTL_MS + OAUTH_STATE_TTL_MS),
        });
        return true;
      } catch (error) {
        if (isDuplicateKeyError(error)) return false;
        throw error;
      }
    },
  };
}
