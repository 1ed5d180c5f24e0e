import type { ReencryptProgress, ReencryptReport } from "@ecodrix/domain";
import cliProgress from "cli-progress";
import { loadProductCapabilities } from "../capabilities.js";
import { CliError, type CliIo, type CommandGroup } from "../command.js";

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
 * Progress on a terminal: one cli-progress bar per collection, redrawn in place. Elsewhere (CI, a pipe,
 * a log file) one plain `progress <collection> <scanned>/<total>` line per batch, which a script can
 * follow and a redrawn bar would garble.
 */
function progressReporter(io: CliIo): { update(progress: ReencryptProgress): void; stop(): void } {
  if (!io.isTty) {
    return {
      update: (progress) => io.out(`progress ${progress.collection} ${progress.scanned}/${progress.total}`),
      stop: () => {},
    };
  }
  const bars = new cliProgress.MultiBar(
    {
      stream: io.stdout,
      format: "[{bar}] {percentage}% {collection} {value}/{total}",
      barsize: 30,
      barCompleteChar: "#",
      barIncompleteChar: "-",
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.legacy,
  );
  const byCollection = new Map<string, cliProgress.SingleBar>();
  return {
    update(progress) {
      let bar = byCollection.get(progress.collection);
      if (!bar) {
        bar = bars.create(progress.total, 0, { collection: progress.collection });
        byCollection.set(progress.collection, bar);
      }
      bar.setTotal(progress.total);
      bar.update(progress.scanned, { collection: progress.collection });
    },
    stop: () => bars.stop(),
  };
}

/**
 * `encryption rotate [--dry-run]`: re-encrypts every stored secret (client secrets, datasource URIs,
 * and the encrypted collections the capabilities declare, such as Google tokens) under the current ENCRYPTION_KEY. Values already under the current key id are
 * skipped, each document is written on its own, and Ctrl-C stops after the current batch: safe to
 * interrupt and run again.
 */
export const encryptionCommands: CommandGroup = (program, context) => {
  const { io } = context;
  const encryption = program
    .command("encryption")
    .description("ENCRYPTION_KEY rotation (runbook §4), against MONGODB_URI with the API's configuration");

  encryption
    .command("rotate")
    .description("re-encrypt every stored secret under the current ENCRYPTION_KEY")
    .option("--dry-run", "count what would change and write nothing")
    .addHelpText(
      "after",
      "\nNeeds the API's variables: MONGODB_URI, SERVICES_DB_NAME, CORE_API_TOKEN, ENCRYPTION_KEY and\nENCRYPTION_KEYS_PREVIOUS (the keys secrets may still be under). Ctrl-C stops after the current batch\n(exit 130); run it again to finish.",
    )
    .action(async (options: { dryRun?: boolean }) => {
      const dryRun = options.dryRun === true;
      // Loaded on use, so the other commands start without the driver and the crypto code.
      const [{ connectCentralMongo, loadConfig }, { createSecretBox, reencryptStoredSecrets }, capabilities] =
        await Promise.all([
          import("@ecodrix/platform"),
          import("@ecodrix/domain"),
          loadProductCapabilities(),
        ]);
      const config = loadConfig(context.env);
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
      const progress = progressReporter(io);
      let report: ReencryptReport;
      try {
        report = await reencryptStoredSecrets({
          db: mongo.db,
          collections: capabilities.encryptedCollections,
          box,
          dryRun,
          onProgress: (update) => progress.update(update),
          shouldStop: () => stopRequested,
        });
      } finally {
        progress.stop();
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await mongo.close();
      }
      for (const line of summary(report, dryRun)) io.out(line);
      io.out(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (report.undecryptable.length > 0) {
        for (const entry of report.undecryptable.slice(0, 20)) io.err(`cannot decrypt: ${entry}`);
        throw new CliError(
          `${report.undecryptable.length} values could not be decrypted with any configured key: put the key they were written with in ENCRYPTION_KEYS_PREVIOUS and run again`,
        );
      }
      if (report.interrupted) {
        throw new CliError(
          "interrupted: the documents above are done; run the command again to finish the rest",
          130,
        );
      }
    });
};
