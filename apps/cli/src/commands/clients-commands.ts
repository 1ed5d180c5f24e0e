import { readFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import type { ClientView } from "@ecodrix/domain";
import { type Command, Option } from "commander";
import { type AdminApiClient, createAdminApiClient } from "../api/admin-api-client.js";
import { DEFAULT_API_URL, loadAdminApiConfig } from "../api/admin-api-config.js";
import { loadProductCapabilities } from "../capabilities.js";
import { type CliContext, CliError, type CliIo, type CommandGroup, UsageError } from "../command.js";
import { formatRecord, formatTable, printable } from "../output/table-format.js";
import { coerceSecretValues, parseSecretsFile, parseSetArguments } from "./secrets-input.js";

/** Options every `clients` command takes. */
interface ApiOptions {
  url: string;
  json?: boolean;
}

interface CreatedClient extends ClientView {
  apiKey: string;
  warning: string;
}

interface SecretsAnswer {
  clientCode: string;
  secretsSet: string[];
  updated: string[];
  automationWebhookSecret?: string;
  warning?: string;
}

interface DeleteAnswer {
  clientCode: string;
  deleted: {
    client: boolean;
    secrets: number;
    datasource: number;
    corsOrigins: number;
    googleTokens: number;
  };
  pendingJobsCancelled: number;
  tenantDatabaseDropped: boolean;
  note: string;
}

const clientPath = (clientCode: string) => `/api/clients/${encodeURIComponent(clientCode)}`;
const names = (list: string[] | undefined) => (list && list.length > 0 ? list.join(", ") : "none");

function withApiOptions(command: Command, context: CliContext): Command {
  return command
    .option(
      "--url <url>",
      "the API's base URL (or ECODRIX_API_URL); the admin token comes from ECODRIX_ADMIN_TOKEN, CORE_API_TOKEN or .data/dev.env",
      context.env.ECODRIX_API_URL || DEFAULT_API_URL,
    )
    .option("--json", "print the API's answer as one JSON line");
}

function connect(context: CliContext, options: ApiOptions): AdminApiClient {
  return createAdminApiClient(loadAdminApiConfig(context, options.url));
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

/** A file's text, or stdin's for `-`; errors name the file and the reason, never its content. */
async function readInput(context: CliContext, file: string, what: string): Promise<string> {
  const { io, env } = context;
  if (file === "-") {
    if (io.stdin.isTTY) io.err(`reading ${what} from stdin (end with Ctrl-D)…`);
    return readAll(io.stdin);
  }
  try {
    // `npm run cli` runs in the repository root; INIT_CWD is where the operator typed the command.
    return await readFile(path.resolve(env.INIT_CWD ?? process.cwd(), file), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code;
    throw new CliError(`cannot read ${file}: ${reason ?? "unreadable"}`);
  }
}

function printClient(io: CliIo, client: ClientView): void {
  const lines = formatRecord([
    ["clientCode", client.clientCode],
    ["name", client.name],
    ["email", client.email],
    ["status", client.status],
    ["apiKeyHint", `${client.apiKeyHint}… (created ${client.apiKeyCreatedAt})`],
    ["secretsSet", names(client.secretsSet)],
    [
      "datasource",
      client.datasource?.registered ? `registered, database ${client.datasource.dbName}` : "not registered",
    ],
    ["corsOrigins", names(client.corsOrigins)],
    // Integration states the capabilities add (googleStatus …), whatever they are called.
    ...Object.entries(client)
      .filter(([name]) => name.endsWith("Status"))
      .map(([name, value]): [string, unknown] => [name, value]),
    ["createdAt", client.createdAt],
    ["updatedAt", client.updatedAt],
  ]);
  for (const line of lines) io.out(line);
}

/** Deleting a client cannot be undone: `--yes`, or the client code typed back on a terminal. */
async function confirmDelete(io: CliIo, clientCode: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!io.stdin.isTTY) {
    throw new UsageError(
      `deleting ${clientCode} removes its key, secrets, datasource and CORS origins and cannot be undone: add --yes to confirm`,
    );
  }
  const prompt = createInterface({ input: io.stdin, output: process.stderr });
  try {
    const typed = await prompt.question(
      `Deleting ${clientCode} removes its key, secrets, datasource and CORS origins; it cannot be undone.\nType the client code to confirm: `,
    );
    if (typed.trim() !== clientCode)
      throw new CliError(`not deleted: "${printable(typed.trim())}" is not ${clientCode}`);
  } finally {
    prompt.close();
  }
}

/**
 * `ecodrix clients …`: onboarding and offboarding (runbook §1, §3, §10) over the admin API, so an
 * operator needs only the API's URL and the admin token — no database access, no curl.
 */
export const clientsCommands: CommandGroup = (program, context) => {
  const { io } = context;
  const clients = program
    .command("clients")
    .description("onboard, inspect and offboard clients through the admin API (runbook §1, §3, §10)");

  withApiOptions(
    clients
      .command("create")
      .summary("create a client; prints its API key once")
      .description(
        "Create a client (runbook §1 step 1). Prints its API key once: it is stored only as a hash.",
      )
      .requiredOption("--name <name>", 'the client\'s name, e.g. "Dr. Sharma Clinic"')
      .requiredOption("--email <email>", "contact e-mail; its domain suggests the client code")
      .option(
        "--code <clientCode>",
        "choose the client code yourself (2–40 lowercase letters, digits, single hyphens)",
      ),
    context,
  ).action(async (options: ApiOptions & { name: string; email: string; code?: string }) => {
    const created = await connect(context, options).request<CreatedClient>("POST", "/api/clients", {
      name: options.name,
      email: options.email,
      ...(options.code === undefined ? {} : { clientCode: options.code }),
    });
    if (options.json) return io.out(JSON.stringify(created));
    io.out(
      `created client ${printable(created.clientCode)} (${printable(created.name)}, ${printable(created.email)})`,
    );
    io.out(`API key (shown once): ${created.apiKey}`);
    io.out(created.warning);
    io.out(`next: ecodrix clients secrets ${created.clientCode} --from-file secrets.json`);
  });

  withApiOptions(
    clients
      .command("list")
      .summary("every client with its status and setup")
      .description(
        "Every client: status, key hint, how many secrets are set, tenant database, CORS origins.",
      ),
    context,
  ).action(async (options: ApiOptions) => {
    const answer = await connect(context, options).request<{ clients: ClientView[] }>("GET", "/api/clients");
    if (options.json) return io.out(JSON.stringify(answer.clients));
    if (answer.clients.length === 0) return io.out("no clients");
    const rows = answer.clients.map((client) => [
      client.clientCode,
      client.status,
      client.name,
      client.email,
      `${client.apiKeyHint}…`,
      client.secretsSet.length,
      client.datasource?.registered ? client.datasource.dbName : "-",
      client.corsOrigins.length,
      client.createdAt,
    ]);
    const header = ["code", "status", "name", "email", "key", "secrets", "database", "cors", "createdAt"];
    for (const line of formatTable(header, rows)) io.out(line);
  });

  withApiOptions(
    clients
      .command("show")
      .summary("one client's status and setup")
      .description(
        "One client: status, key hint, which secrets are set (names only, never values), datasource, CORS origins.",
      )
      .argument("<clientCode>"),
    context,
  ).action(async (clientCode: string, options: ApiOptions) => {
    const client = await connect(context, options).request<ClientView>("GET", clientPath(clientCode));
    if (options.json) return io.out(JSON.stringify(client));
    printClient(io, client);
  });

  withApiOptions(
    clients
      .command("update")
      .summary("rename, or suspend / reactivate a client")
      .description(
        "Change a client's name or e-mail, or suspend / reactivate it (a suspended client's key gets 403 at once).",
      )
      .argument("<clientCode>")
      .option("--name <name>", "new name")
      .option("--email <email>", "new contact e-mail")
      .addOption(new Option("--status <status>", "suspend or reactivate").choices(["active", "suspended"])),
    context,
  ).action(
    async (clientCode: string, options: ApiOptions & { name?: string; email?: string; status?: string }) => {
      const changes = {
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.email === undefined ? {} : { email: options.email }),
        ...(options.status === undefined ? {} : { status: options.status }),
      };
      if (Object.keys(changes).length === 0)
        throw new UsageError("nothing to change: give --name, --email or --status");
      const client = await connect(context, options).request<ClientView>(
        "PATCH",
        clientPath(clientCode),
        changes,
      );
      if (options.json) return io.out(JSON.stringify(client));
      io.out(`updated ${printable(client.clientCode)}: ${Object.keys(changes).join(", ")}`);
      printClient(io, client);
    },
  );

  withApiOptions(
    clients
      .command("secrets")
      .summary("set a client's secrets (names printed, never values)")
      .description(
        "Set a client's secrets (runbook §1 step 2). Only the fields given change. Values are sent to the API, which stores them encrypted; they are never printed.",
      )
      .argument("<clientCode>")
      .option("--from-file <file>", "a JSON object of secret fields (- reads it from stdin)")
      .option(
        "--set <name=value>",
        "one field, repeatable; wins over the file (values on a command line stay in shell history: prefer --from-file for passwords)",
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      )
      .addHelpText(
        "after",
        `
Fields: those of runbook §1 step 2 (whatsappToken, smtpHost, smtpPort, smtpPass, …); the API refuses
an unknown one by name. Leave automationWebhookSecret out the first time and the API generates one,
printed once.

Examples:
  ecodrix clients secrets sharmaclinic --from-file secrets.json
  ecodrix clients secrets sharmaclinic --set smtpHost=smtp.gmail.com --set smtpPort=465`,
      ),
    context,
  ).action(async (clientCode: string, options: ApiOptions & { fromFile?: string; set?: string[] }) => {
    const set = options.set ?? [];
    if (options.fromFile === undefined && set.length === 0) {
      throw new UsageError("nothing to set: give --from-file <file> and/or --set name=value");
    }
    const fromSet = parseSetArguments(set);
    const fromFile =
      options.fromFile === undefined
        ? {}
        : parseSecretsFile(
            await readInput(context, options.fromFile, "the secrets JSON"),
            options.fromFile === "-" ? "stdin" : options.fromFile,
          );
    const { secretFields } = await loadProductCapabilities();
    const values = coerceSecretValues({ ...fromFile, ...fromSet }, secretFields);
    if (Object.keys(values).length === 0) {
      throw new UsageError(
        `nothing to set: ${options.fromFile === "-" ? "stdin" : options.fromFile} holds {}`,
      );
    }
    const answer = await connect(context, options).request<SecretsAnswer>(
      "POST",
      `${clientPath(clientCode)}/secrets`,
      values,
    );
    if (options.json) return io.out(JSON.stringify(answer));
    io.out(`${printable(answer.clientCode)}: updated ${names(answer.updated)}`);
    io.out(`secrets set: ${names(answer.secretsSet)}`);
    if (answer.automationWebhookSecret) {
      io.out(`automationWebhookSecret (generated, shown once): ${answer.automationWebhookSecret}`);
      if (answer.warning) io.out(answer.warning);
    }
  });

  withApiOptions(
    clients
      .command("datasource")
      .summary("register the client's tenant database")
      .description(
        "Register the client's tenant database (runbook §1 step 3). The API connects and pings it first, then stores the URI encrypted.",
      )
      .argument("<clientCode>")
      .argument(
        "<dbUri>",
        "mongodb:// or mongodb+srv:// URI; - reads it from stdin (keeps the password out of shell history)",
      ),
    context,
  ).action(async (clientCode: string, dbUriArgument: string, options: ApiOptions) => {
    const dbUri =
      dbUriArgument === "-" ? (await readInput(context, "-", "the database URI")).trim() : dbUriArgument;
    const answer = await connect(context, options).request<{ clientCode: string; dbName: string }>(
      "POST",
      `${clientPath(clientCode)}/datasource`,
      { dbUri },
    );
    if (options.json) return io.out(JSON.stringify(answer));
    io.out(
      `${printable(answer.clientCode)}: tenant database ${printable(answer.dbName)} registered (reachable; the URI is stored encrypted)`,
    );
  });

  withApiOptions(
    clients
      .command("google-link")
      .summary("a link that connects the client's Google Calendar")
      .description(
        "Create a Google Calendar connect link (runbook §1 step 4): signed, valid for 30 minutes, to open in a browser signed in as the clinic's Google account.",
      )
      .argument("<clientCode>"),
    context,
  ).action(async (clientCode: string, options: ApiOptions) => {
    const link = await connect(context, options).request<{ id: string; url: string; expiresAt: string }>(
      "POST",
      `${clientPath(clientCode)}/google/connect-link`,
    );
    if (options.json) return io.out(JSON.stringify(link));
    io.out(`Google connect link for ${printable(clientCode)} (valid until ${printable(link.expiresAt)}):`);
    io.out(printable(link.url));
    io.out("Open it in a browser signed in as the Google account whose calendar gets the meetings.");
  });

  withApiOptions(
    clients
      .command("rotate-key")
      .summary("issue a new API key; the old one stops working")
      .description(
        "Issue a new API key (runbook §3). The old key is refused from the moment this returns; the new one is printed once.",
      )
      .argument("<clientCode>"),
    context,
  ).action(async (clientCode: string, options: ApiOptions) => {
    const answer = await connect(context, options).request<{
      clientCode: string;
      apiKey: string;
      warning: string;
    }>("POST", `${clientPath(clientCode)}/rotate-key`);
    if (options.json) return io.out(JSON.stringify(answer));
    io.out(`new API key for ${printable(answer.clientCode)} (shown once): ${answer.apiKey}`);
    io.out(answer.warning);
  });

  withApiOptions(
    clients
      .command("delete")
      .summary("offboard a client (asks for confirmation)")
      .description(
        "Offboard a client (runbook §10): removes its key, secrets, datasource, CORS origins and Google tokens, and cancels its pending jobs. The tenant database is not dropped.",
      )
      .argument("<clientCode>")
      .option("-y, --yes", "do not ask for confirmation"),
    context,
  ).action(async (clientCode: string, options: ApiOptions & { yes?: boolean }) => {
    const api = connect(context, options);
    await confirmDelete(io, clientCode, options.yes);
    const answer = await api.request<DeleteAnswer>("DELETE", clientPath(clientCode));
    if (options.json) return io.out(JSON.stringify(answer));
    const { deleted } = answer;
    io.out(
      `deleted ${printable(answer.clientCode)}: client record ${deleted.client ? "removed" : "already gone"}, ${deleted.secrets} secrets, ${deleted.datasource} datasource, ${deleted.corsOrigins} CORS origins, ${deleted.googleTokens} Google tokens; ${answer.pendingJobsCancelled} pending jobs cancelled`,
    );
    io.out(answer.note);
  });
};
