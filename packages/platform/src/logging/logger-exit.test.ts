import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const loggerModule = path.join(path.dirname(fileURLToPath(import.meta.url)), "logger.ts");

/** Runs a process that logs `lines` lines through the product's logger, then dies by `ending`. */
async function logThenDie(lines: number, ending: string, pretty = false): Promise<string[]> {
  const script = `
    const { createLogger } = await import(${JSON.stringify(loggerModule)});
    const logger = createLogger({ level: "info", name: "exit-test", pretty: ${pretty} });
    for (let i = 0; i < ${lines}; i++) logger.info("working " + i);
    logger.warn("last words");
    ${ending}
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  await new Promise((resolve) => child.once("close", resolve));
  return out.split("\n").filter(Boolean);
}

describe("logs written just before a process dies", () => {
  it("are all on stdout even when the process is killed with SIGKILL right after logging", async () => {
    const lines = await logThenDie(2_000, `process.kill(process.pid, "SIGKILL");`);
    expect(lines).toHaveLength(2_001);
    expect(lines.at(-1)).toContain("last words");
  });

  it("are all on stdout in the pretty (TTY) format too, killed with SIGKILL", async () => {
    const lines = await logThenDie(2_000, `process.kill(process.pid, "SIGKILL");`, true);
    expect(lines.filter((line) => line.includes("working "))).toHaveLength(2_000);
    expect(lines.at(-1)).toContain("last words");
  });

  it("are all on stdout when a fatal path calls process.exit at once", async () => {
    const lines = await logThenDie(2_000, "process.exit(1);");
    expect(lines).toHaveLength(2_001);
    expect(lines.at(-1)).toContain("last words");
  });
});
