import { Command, type CommanderError } from "commander";
import { type CliContext, CliError, UsageError } from "./command.js";
import { commandGroups } from "./commands/index.js";

/** A parse failure raised by commander, with the command it concerns (for its usage line). */
class ParseFailure extends Error {
  constructor(
    readonly error: CommanderError,
    readonly command: Command,
  ) {
    super(error.message);
  }
}

/** `ecodrix jobs requeue <id> [options]`: the full path, the arguments, `[options]` when there are any. */
function usageLine(command: Command): string {
  const words: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) words.unshift(at.name());
  return `${words.join(" ")} ${command.usage()}`.trim();
}

function ownUsage(command: Command): string {
  if (command.commands.length > 0) return "[options] <command>";
  const args = command.registeredArguments.map((arg) => {
    const name = `${arg.name()}${arg.variadic ? "..." : ""}`;
    return arg.required ? `<${name}>` : `[${name}]`;
  });
  // Arguments first: `jobs requeue <id> [options]` reads as the command is typed.
  return [...args, command.options.length > 0 ? "[options]" : ""].filter(Boolean).join(" ");
}

/**
 * Commander's messages repeat what was typed: the arguments of "too many arguments", the value of an
 * invalid option. Here that could be a password or a database URI, so those parts are dropped, and a
 * mistyped `--smtpPass=…` is named without its value.
 */
function parseProblem(error: CommanderError): string {
  let text = error.message.replace(/^error: /, "");
  if (error.code === "commander.excessArguments")
    text = text.replace(/ but got (\d+): [\s\S]*$/, " but got $1.");
  if (error.code === "commander.invalidArgument") {
    text = text
      .replace(/^(option '[^']*') argument '[\s\S]*' is invalid\./, "$1: invalid value.")
      .replace(
        /^command-argument value '[\s\S]*' is invalid for argument '([^']*)'\./,
        "invalid value for <$1>.",
      );
  }
  if (error.code === "commander.unknownOption")
    text = text.replace(/^unknown option '([^'=]*)=[^']*'/, "unknown option '$1'");
  // Option names unquoted: "unknown option --colour".
  return text
    .replace(/'(-[^']*)'/g, "$1")
    .replace(/\s*\n\s*/g, " ")
    .trim();
}

/** Settings every command shares: errors come back to `runCli` instead of exiting, usage lines, output. */
function applyConventions(command: Command, context: CliContext): void {
  command
    .exitOverride((error) => {
      throw new ParseFailure(error, command);
    })
    .configureOutput({
      writeOut: (text) => context.io.stdout.write(text),
      writeErr: (text) => context.io.err(text.replace(/\n$/, "")),
      // runCli prints the one error line itself, with the usage.
      outputError: () => {},
    })
    .showSuggestionAfterError(true)
    .usage(ownUsage(command));
  for (const sub of command.commands) applyConventions(sub, context);
}

export function buildProgram(context: CliContext): Command {
  const program = new Command("ecodrix")
    .description(
      "Operations for the ECODrIx backend: onboard clients over the admin API, inspect and fix jobs, rotate ENCRYPTION_KEY.",
    )
    .addHelpText(
      "after",
      `
Examples:
  ecodrix clients create --name "Dr. Sharma Clinic" --email contact@sharmaclinic.com
  ecodrix clients secrets sharmaclinic --from-file secrets.json
  ecodrix jobs stats
  ecodrix <command> --help           # every command has its own help

The runbook (apps/api/RUNBOOK.md) shows each step with curl and with this CLI.`,
    );
  for (const group of commandGroups) group(program, context);
  applyConventions(program, context);
  return program;
}

/**
 * Runs one command line and returns the exit code: 0 done, 1 failed (one `error: …` line, e.g. the
 * API's own message), 2 wrong use (the problem and the command's usage), or a command's own code
 * (130 for an interrupted rotation).
 */
export async function runCli(argv: string[], context: CliContext): Promise<number> {
  const { io } = context;
  const program = buildProgram(context);
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  let running: Command = program;
  program.hook("preAction", (_program, actionCommand) => {
    running = actionCommand;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof ParseFailure) {
      const { code, exitCode } = error.error;
      if (code === "commander.helpDisplayed" || code === "commander.version") return 0;
      // A group without its subcommand (`ecodrix jobs`): commander printed the group's help.
      if (code === "commander.help") return exitCode === 0 ? 0 : 2;
      io.err(`error: ${parseProblem(error.error)} (usage: ${usageLine(error.command)})`);
      return 2;
    }
    if (error instanceof UsageError) {
      io.err(`error: ${error.message} (usage: ${usageLine(running)})`);
      return error.exitCode;
    }
    if (error instanceof CliError) {
      io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
