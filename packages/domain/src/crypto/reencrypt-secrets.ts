import type { AnyBulkWriteOperation, Db, Document } from "mongodb";
import { isCiphertext, type SecretBox } from "./secret-box.js";

/**
 * Every central collection that holds ciphertexts. Each document carries `clientCode`; any string
 * field (top level or nested object) starting with `ecx1:` is a ciphertext whose AAD field is its
 * dotted path. A new collection with encrypted fields only needs adding here.
 */
/** The domain's own encrypted collections; capabilities add theirs (e.g. `google_tokens`). */
export const CORE_ENCRYPTED_COLLECTIONS = ["client_secrets", "client_datasources"] as const;

export interface ReencryptProgress {
  collection: string;
  /** Documents looked at so far in this collection / in total. */
  scanned: number;
  total: number;
}

export interface ReencryptReport {
  currentKeyId: string;
  documentsScanned: number;
  /** Documents with at least one value under an older key (re-encrypted, or would be on a dry run). */
  documentsChanged: number;
  valuesChanged: number;
  valuesAlreadyCurrent: number;
  /** Changed by someone else between our read and our write: left alone (a rerun picks them up). */
  documentsSkippedConcurrent: number;
  /** Values no configured key can decrypt, as `collection clientCode field (key id)`. */
  undecryptable: string[];
  byCollection: Record<string, { scanned: number; changed: number }>;
  interrupted: boolean;
}

export interface ReencryptOptions {
  db: Db;
  /** Capabilities' encrypted collections (CapabilityRegistry.encryptedCollections), walked after the core ones. */
  collections?: readonly string[];
  box: SecretBox;
  dryRun?: boolean;
  batchSize?: number;
  onProgress?: (progress: ReencryptProgress) => void;
  /** Checked between batches; true stops after the current batch (safe: every write is per document). */
  shouldStop?: () => boolean;
}

function ciphertextPaths(value: Document, prefix = ""): Array<{ path: string; value: string }> {
  const found: Array<{ path: string; value: string }> = [];
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isCiphertext(child)) found.push({ path, value: child });
    else if (child && typeof child === "object" && !Array.isArray(child) && !(child instanceof Date)) {
      if (Object.getPrototypeOf(child) === Object.prototype) found.push(...ciphertextPaths(child, path));
    }
  }
  return found;
}

/**
 * Re-encrypts every stored secret under the box's current key. Idempotent: values already under the
 * current key id are skipped, so an interrupted run is finished by running it again. Each document
 * is updated only if its old ciphertexts are still there (a concurrent API write wins).
 */
export async function reencryptStoredSecrets(options: ReencryptOptions): Promise<ReencryptReport> {
  const { db, box, dryRun = false, batchSize = 200 } = options;
  const report: ReencryptReport = {
    currentKeyId: box.currentKeyId,
    documentsScanned: 0,
    documentsChanged: 0,
    valuesChanged: 0,
    valuesAlreadyCurrent: 0,
    documentsSkippedConcurrent: 0,
    undecryptable: [],
    byCollection: {},
    interrupted: false,
  };

  for (const name of new Set([...CORE_ENCRYPTED_COLLECTIONS, ...(options.collections ?? [])])) {
    const collection = db.collection(name);
    const total = await collection.countDocuments({});
    const stats = { scanned: 0, changed: 0 };
    report.byCollection[name] = stats;
    if (total === 0) continue;
    const cursor = collection.find({}).sort({ _id: 1 }).batchSize(batchSize);
    let batch: AnyBulkWriteOperation[] = [];

    const flush = async () => {
      if (batch.length === 0) return;
      if (!dryRun) {
        const result = await collection.bulkWrite(batch, { ordered: false });
        report.documentsSkippedConcurrent += batch.length - result.matchedCount;
      }
      batch = [];
    };

    for await (const doc of cursor) {
      stats.scanned += 1;
      report.documentsScanned += 1;
      const clientCode = String(doc.clientCode ?? "");
      const set: Record<string, string> = {};
      const filter: Record<string, unknown> = { _id: doc._id };
      for (const { path, value } of ciphertextPaths(doc)) {
        if (!box.needsReencryption(value)) {
          if (box.keyIdOf(value) === box.currentKeyId) report.valuesAlreadyCurrent += 1;
          continue;
        }
        try {
          set[path] = box.reencrypt(value, { clientCode, field: path });
          filter[path] = value;
        } catch {
          report.undecryptable.push(`${name} ${clientCode} ${path} (key ${box.keyIdOf(value) ?? "?"})`);
        }
      }
      const changed = Object.keys(set).length;
      if (changed > 0) {
        stats.changed += 1;
        report.documentsChanged += 1;
        report.valuesChanged += changed;
        batch.push({ updateOne: { filter, update: { $set: set } } });
      }
      if (stats.scanned % batchSize === 0) {
        await flush();
        options.onProgress?.({ collection: name, scanned: stats.scanned, total });
        if (options.shouldStop?.()) {
          report.interrupted = true;
          await cursor.close();
          return report;
        }
      }
    }
    await flush();
    if (stats.scanned % batchSize !== 0)
      options.onProgress?.({ collection: name, scanned: stats.scanned, total });
    if (options.shouldStop?.()) {
      report.interrupted = true;
      return report;
    }
  }
  return report;
}
