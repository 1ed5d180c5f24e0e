import { execFileSync } from "node:child_process";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CliContext } from "./command.js";
import { describeCommands } from "./completion/completion-scripts.js";
import { buildProgram, runCli } from "./program.js";

/** The real program with its output captured (no process: commander and our code as they run). */
function captured(): { context: CliContext; stdout: () => string; stderr: () => string } {
  const stdout = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk) => {
    out += String(chunk);
  });
  return {
    context: {
      env: {},
      defaultDataDir: "/nonexistent",
      io: {
        out: (line) => {
          out += `${line}\n`;
        },
        err: (line) => {
          err += `${line}\n`;
        },
        isTty: false,
        stdout,
        stdin: new PassThrough(),
      },
    },
    stdout: () => out,
    stderr: () => err,
  };
}

const paths = describeCommands(buildProgram(captured().context)).map((entry) => entry.path);

describe("the command tree", () => {
  it("has the operator commands of the runbook", () => {
    for (const path of [
      "clients create",
      "clients list",
      "clients show",
      "clients secrets",
      "clients datasource",
      "clients google-link",
      "clients rotate-key",
      "clients delete",
      "jobs stats",
      "jobs list",
      "jobs stuck",
      "jobs show",
      "jobs requeue",
      "jobs cancel",
      "jobs kill",
      "encryption rotate",
      "completion",
    ]) {
      expect(paths).toContain(path);
    }
  });

  it.each(paths.map((path) => [path || "(root)", path]))(
    "`ecodrix %s --help` prints its usage and exits 0",
    async (_, path) => {
      const { context, stdout, stderr } = captured();
      const argv = [...(path ? path.split(" ") : []), "--help"];
      expect(await runCli(argv, context)).toBe(0);
      expect(stdout()).toMatch(new RegExp(`^Usage: ecodrix${path ? ` ${path}` : ""} `));
      expect(stdout()).toContain("-h, --help");
      expect(stderr()).toBe("");
    },
  );

  it("a group without its subcommand shows the group's help and exits 2", async () => {
    const { context, stderr } = captured();
    expect(await runCli(["clients"], context)).toBe(2);
    expect(stderr()).toContain("Usage: ecodrix clients [options] <command>");
  });
});

describe("usage errors repeat nothing that may be a secret", () => {
  async function problem(argv: string[]) {
    const { context, stdout, stderr } = captured();
    const code = await runCli(argv, context);
    return { code, stdout: stdout(), stderr: stderr() };
  }

  it("drops the arguments of 'too many arguments', invalid values and the value of an unknown --name=value", async () => {
    const extra = await problem(["clients", "rotate-key", "sharmaclinic", "hunter2-extra"]);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toBe(
      "error: too many arguments for 'rotate-key'. Expected 1 argument but got 2. (usage: ecodrix clients rotate-key <clientCode> [options])\n",
    );
    const option = await problem(["clients", "show", "x", "--smtpPass=hunter2-option"]);
    expect(option.stderr).toBe(
      "error: unknown option --smtpPass (usage: ecodrix clients show <clientCode> [options])\n",
    );
    const shell = await problem(["completion", "hunter2-shell"]);
    expect(shell.stderr).toBe(
      "error: invalid value for <shell>. Allowed choices are bash, zsh. (usage: ecodrix completion <shell>)\n",
    );
    expect(`${extra.stderr}${option.stderr}${shell.stderr}`).not.toContain("hunter2");
  });

  it("suggests the option meant", async () => {
    const run = await problem(["jobs", "list", "--clent", "acme"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "error: unknown option --clent (Did you mean --client?) (usage: ecodrix jobs list [options])\n",
    );
  });
});

describe("shell completion", () => {
  async function bashScript(): Promise<string> {
    const { context, stdout } = captured();
    expect(await runCli(["completion", "bash"], context)).toBe(0);
    return stdout();
  }

  /** Completes `line` (up to the cursor at its end) in a real bash with the generated script loaded. */
  function completeInBash(script: string, words: string[]): string[] {
    const program = `
      ${script}
      COMP_WORDS=(${words.map((word) => `'${word}'`).join(" ")})
      COMP_CWORD=${words.length - 1}
      _ecodrix_completion
      printf '%s\\n' "\${COMPREPLY[@]}"
    `;
    return execFileSync("bash", ["-c", program], { encoding: "utf8", cwd: import.meta.dirname })
      .split("\n")
      .filter(Boolean);
  }

  it("bash: completes commands, subcommands, options, option choices and file names", async () => {
    const script = await bashScript();
    expect(script).toContain("complete -F _ecodrix_completion ecodrix");
    expect(completeInBash(script, ["ecodrix", ""])).toEqual([
      "clients",
      "jobs",
      "encryption",
      "completion",
      "help",
    ]);
    expect(completeInBash(script, ["ecodrix", "cl"])).toEqual(["clients"]);
    expect(completeInBash(script, ["ecodrix", "clients", "r"])).toEqual(["rotate-key"]);
    expect(completeInBash(script, ["ecodrix", "clients", "secrets", "sharmaclinic", "--"])).toEqual([
      "--from-file",
      "--set",
      "--url",
      "--json",
      "--help",
    ]);
    expect(completeInBash(script, ["ecodrix", "jobs", "list", "--status", "failed", "--c"])).toEqual([
      "--client",
    ]);
    expect(completeInBash(script, ["ecodrix", "completion", ""])).toEqual(["bash", "zsh"]);
    expect(completeInBash(script, ["ecodrix", "completion", "-"])).toEqual(["-h", "--help"]);
    expect(completeInBash(script, ["ecodrix", "clients", "update", "x", "--status", ""])).toEqual([
      "active",
      "suspended",
    ]);
    // A file for --from-file: this test file itself, from its directory.
    expect(
      completeInBash(script, ["ecodrix", "clients", "secrets", "x", "--from-file", "program.te"]),
    ).toEqual(["program.test.ts"]);
    // A free value (a client's name) gets no command words offered.
    expect(completeInBash(script, ["ecodrix", "clients", "create", "--name", ""])).toEqual([]);
  });

  /**
   * Runs the zsh script's function with zsh's completion builtins replaced by functions that print
   * what they were given (zsh filters by the typed prefix itself, so the full list comes back).
   */
  function completeInZsh(script: string, words: string[]): string[] {
    const program = `
      compdef() { : }
      _describe() { local name=\${@[-1]}; local item; for item in "\${(@P)name}"; do print -r -- "\${item%%:*}"; done }
      compadd() { shift; print -rl -- "$@" }
      _files() { print -r -- "(files)" }
      _message() { print -r -- "(message)" }
      ${script}
      words=(${words.map((word) => `'${word}'`).join(" ")})
      CURRENT=${words.length}
      _ecodrix
    `;
    return execFileSync("zsh", ["-f", "-c", program], { encoding: "utf8" }).split("\n").filter(Boolean);
  }

  const hasZsh = (() => {
    try {
      execFileSync("zsh", ["-f", "-c", "true"]);
      return true;
    } catch {
      return false;
    }
  })();

  it.runIf(hasZsh)("zsh (when installed): the script parses and completes what bash completes", async () => {
    const { context, stdout } = captured();
    expect(await runCli(["completion", "zsh"], context)).toBe(0);
    const script = stdout();
    execFileSync("zsh", ["-f", "-n", "-c", script]);
    expect(completeInZsh(script, ["ecodrix", ""])).toEqual([
      "clients",
      "jobs",
      "encryption",
      "completion",
      "help",
    ]);
    expect(completeInZsh(script, ["ecodrix", "clients", "rotate-key", "x", "--"])).toEqual([
      "--url",
      "--json",
      "-h",
      "--help",
    ]);
    expect(completeInZsh(script, ["ecodrix", "jobs", "list", "--status", "failed", ""])).toEqual([
      "--status",
      "--type",
      "--client",
      "--limit",
      "--json",
      "-h",
      "--help",
    ]);
    expect(completeInZsh(script, ["ecodrix", "clients", "secrets", "x", "--from-file", ""])).toEqual([
      "(files)",
    ]);
    expect(completeInZsh(script, ["ecodrix", "clients", "update", "x", "--status", ""])).toEqual([
      "active",
      "suspended",
    ]);
    expect(completeInZsh(script, ["ecodrix", "completion", ""])).toEqual(["bash", "zsh"]);
  });

  it("zsh: the script names every command path and registers itself", async () => {
    const { context, stdout } = captured();
    expect(await runCli(["completion", "zsh"], context)).toBe(0);
    const script = stdout();
    expect(script.startsWith("#compdef ecodrix\n")).toBe(true);
    expect(script).toContain("compdef _ecodrix ecodrix");
    for (const path of paths.filter(Boolean)) expect(script).toContain(`'${path}'`);
    expect(script).toContain("('clients secrets|--from-file') _files; return ;;");
    expect(script).toContain("'rotate-key:issue a new API key; the old one stops working'");
  });
});
