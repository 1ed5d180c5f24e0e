import cliProgress from "cli-progress";
import { loadProductCapabilities } from "../capabilities.js";
import { CliError, type CommandGroup } from "../command.js";

/**
 * `tenants migrate [--client X]`: creates every capability's indexes (leads, appointments, automations,
 * the message log, …) in every tenant database, or one client's. Idempotent: run it after each release
 * that adds a tenant collection or index. A tenant whose database cannot be reached is reported and the
 * others go on; the exit code is 1 when any failed.
 */
export const tenantsCommands: CommandGroup = (program, context) => {
  const { io } = context;
  const tenants = program
    .command("tenants")
    .description("tenant databases, against MONGODB_URI with the API's configuration");

  tenants
    .command("migrate")
    .description("create the product's indexes in every tenant database (idempotent)")
    .option("--client <clientCode>", "only this client's tenant database")
    .addHelpText(
      "after",
      "\nNeeds the API's variables: MONGODB_URI, SERVICES_DB_NAME, CORE_API_TOKEN, ENCRYPTION_KEY (and\nENCRYPTION_KEYS_PREVIOUS): the datasource URIs are stored encrypted.",
    )
    .action(async (options: { client?: string }) => {
      const [{ connectCentralMongo, createLogger, loadConfig }, domain, { createQueue }, capabilities] =
        await Promise.all([
          import("@ecodrix/platform"),
          import("@ecodrix/domain"),
          import("@ecodrix/queue"),
          loadProductCapabilities(),
        ]);
      const config = loadConfig(context.env);
      const mongo = await connectCentralMongo(config.mongodbUri, config.servicesDbName);
      const tenancy = domain.createTenancyServices({
        db: mongo.db,
        encryptionKeys: config.encryptionKeys,
        queue: createQueue({ db: mongo.db }),
        logger: createLogger({ level: "warn", name: "ecodrix-cli", destination: process.stderr }),
        capabilities: capabilities.capabilities,
      });
      const bar = io.isTty
        ? new cliProgress.SingleBar(
            { stream: io.stdout, format: "[{bar}] {value}/{total} {client}", hideCursor: true },
            cliProgress.Presets.legacy,
          )
        : undefined;
      const started = Date.now();
      try {
        const report = await domain.migrateTenantIndexes({
          datasources: tenancy.datasources,
          tenantConnections: tenancy.tenantConnections,
          specs: tenancy.capabilities.tenantIndexes,
          ...(options.client ? { only: options.client } : {}),
          onProgress: (done, total, clientCode) => {
            if (!bar) return io.out(`progress ${done}/${total} ${clientCode}`);
            if (done === 1) bar.start(total, 0, { client: clientCode });
            bar.update(done, { client: clientCode });
          },
        });
        bar?.stop();
        io.out(
          `migrated ${report.migrated.length} of ${report.total} tenant databases (${tenancy.capabilities.tenantIndexes.length} collections each) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
        for (const failure of report.failed) io.err(`${failure.clientCode}: ${failure.message}`);
        if (report.failed.length > 0) {
          throw new CliError(
            `${report.failed.length} tenant databases could not be migrated: run again once reachable`,
          );
        }
      } finally {
        bar?.stop();
        await tenancy.close();
        await mongo.close();
      }
    });
};
