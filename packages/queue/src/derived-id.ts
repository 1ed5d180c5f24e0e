import { createHash } from "node:crypto";
import { ObjectId } from "mongodb";

/**
 * An ObjectId that is the same every time it is computed from the same key: the timestamp bytes come
 * from `at` (so ids still sort by time in Atlas and the admin lists), the other eight from SHA-256 of
 * `key`. A retried job that inserts "its" document or enqueues "its" follow-up job with such an id
 * finds the first attempt's one instead of making a second — even after the first one finished.
 */
export function derivedObjectId(at: Date, key: string): ObjectId {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(Math.max(0, Math.floor(at.getTime() / 1000)) >>> 0, 0);
  createHash("sha256").update(key).digest().copy(bytes, 4, 0, 8);
  return new ObjectId(bytes);
}
