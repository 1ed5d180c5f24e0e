import { crmCapabilities } from "@ecodrix/crm";
import {
  createCapabilityRegistry,
  createSecretBox,
  type ReencryptProgress,
  type ReencryptReport,
  reencryptStoredSecrets,
} from "@ecodrix/domain";
import { integrationCapabilities } from "@ecodrix/integrations";
import { connectCentralMongo } from "@ecodrix/platform";
import type { CliCommand, CliIo } from "../command.js";

function progressBar(progress: ReencryptProgress): string {
  const width = 30;
  const ratio = progress.total === 0 ? 1 : Math.min(1, progress.scanned / progress.total);
  const filled = Math.round(ratio * width);
  const percent = String(Math.round(ratio * 100)).padStart(3);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${percent}% ${progress.collection} ${progress.scanned}/${progress.total}`;
}

function summary(report: ReencryptReport, dryRun: boolean): string[] {
  const lines: string[] = [];
  for (const [name, stats] of Object.entries(report.byCollection)) {
    lines.push(
      `  ${name.padEnd(20)} ${String(stats.scanned).padStart(7)} scanned ${String(stats.changed).padStart(7)} ${dryRun ? "to re-encrypt" : "re-encrypted"}`,
    );
  }
  const verb = dryRun ? "would re-encrypt" : "re-encrypted";
  lines.push(
    `${dryRun ? "dry run: " : ""}${verb} ${report.valuesChanged} values in ${report.documentsChanged} of ${report.documentsScanned} documents under key ${report.currentKeyId}; ${report.valuesAlreadyCurrent} values already under it${dryRun ? "; nothing was written" : ""}`,
  );
  if (report.documentsSkippedConcurrent > 0) {
    lines.push(
      `${report.documentsSkippedConcurrent} documents changed while running were left alone: run again to finish them`,
    );
  }
  return lines;
}

/**
 * `encryption rotate [--dry-run]`: re-encrypts every stored secret (client secrets, datasource URIs,
 * Google tokens) under the current ENCRYPTION_KEY. Values already under the current key id are
 * skipped, each document is written on its own, and Ctrl-C stops after the current batch: safe to
 * interrupt and run again. Progress bar on a terminal, a line per batch otherwise.
 */
export const encryptionRotateCommand: CliCommand = {
  name: "encryption rotate",
  usage: "encryption rotate [--dry-run]",
  summary: "re-encrypt every stored secret under the current ENCRYPTION_KEY",
  async run(args, { io, loadConfig }) {
    const unknown = args.filter((arg) => arg !== "--dry-run");
    if (unknown.length > 0) {
      io.err(`unknown argument: ${unknown[0]} (usage: ${this.usage})`);
      return 2;
    }
    const dryRun = args.includes("--dry-run");
    const config = loadConfig();
    const box = createSecretBox({ keys: config.encryptionKeys });
    io.out(
      `encryption rotate${dryRun ? " --dry-run" : ""}: current key ${box.currentKeyId}; readable keys ${box.keyIds.join(", ")}; database ${config.servicesDbName}`,
    );
    const mongo = await connectCentralMongo(config.mongodbUri, config.servicesDbName);
    let stopRequested = false;
    const onSignal = () => {
      stopRequested = true;
      io.err("stopping after the current batch (run the command again to finish)…");
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    const started = Date.now();
    try {
      const report = await reencryptStoredSecrets({
        db: mongo.db,
        collections: createCapabilityRegistry([...integrationCapabilities, ...crmCapabilities])
          .encryptedCollections,
        box,
        dryRun,
        onProgress: progressWriter(io),
        shouldStop: () => stopRequested,
      });
      if (io.isTty) process.stdout.write("\n");
      for (const line of summary(report, dryRun)) io.out(line);
      io.out(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (report.undecryptable.length > 0) {
        for (const entry of report.undecryptable.slice(0, 20)) io.err(`cannot decrypt: ${entry}`);
        io.err(
          `${report.undecryptable.length} values could not be decrypted with any configured key: put the key they were written with in ENCRYPTION_KEYS_PREVIOUS and run again`,
        );
        return 1;
      }
      if (report.interrupted) {
        io.err("interrupted: the documents above are done; run the command again to finish the rest");
        return 130;
      }
      return 0;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await mongo.close();
    }
  },
};

/** A bar redrawn in place on a terminal (one line per collection); plain lines otherwise. */
function progressWriter(io: CliIo): (progress: ReencryptProgress) => void {
  let current: string | undefined;
  return (progress) => {
    if (!io.isTty) {
      io.out(`progress ${progress.collection} ${progress.scanned}/${progress.total}`);
      return;
    }
    // The CLI's io writes whole lines; redrawing a bar needs the raw stream.
    if (current !== undefined && current !== progress.collection) process.stdout.write("\n");
    current = progress.collection;
    process.stdout.write(`\r${progressBar(progress)}`);
  };
}

export const encryptionCommands: CliCommand[] = [encryptionRotateCommand];
