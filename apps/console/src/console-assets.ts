import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

/** The console package's root (web/ sources, vite.config.ts, dist/), from src/ or from the compiled dist/. */
export const consoleRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** What the API serves at /console/: the Vite build output (beside the compiled Node side in dist/). */
export const consoleDistDir = path.join(consoleRoot, "dist", "web");

const sources = [path.join(consoleRoot, "web"), path.join(consoleRoot, "vite.config.ts")];

function newestMtime(entry: string): number {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, name)));
  return newest;
}

/** True when dist/ exists and is newer than every source file (a build would change nothing). */
export function isConsoleBuildFresh(distDir = consoleDistDir): boolean {
  const index = path.join(distDir, "index.html");
  if (!existsSync(index)) return false;
  return statSync(index).mtimeMs >= Math.max(...sources.map(newestMtime));
}

/**
 * Builds the console with Vite into `dist/`. It builds into a fresh directory and then swaps it in, so
 * an API serving the old build never sees a half-written one, and two builds at once (`npm start`
 * and the browser tests) cannot interleave their files.
 */
export async function buildConsole(): Promise<void> {
  // Loaded here, not at the top: the API imports this module for the path alone and never loads Vite.
  const { build } = await import("vite");
  const staging = `${consoleDistDir}.build-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await build({
      configFile: path.join(consoleRoot, "vite.config.ts"),
      build: { outDir: staging },
      logLevel: "warn",
    });
    const old = `${consoleDistDir}.old-${process.pid}-${randomBytes(4).toString("hex")}`;
    if (existsSync(consoleDistDir)) renameSync(consoleDistDir, old);
    try {
      renameSync(staging, consoleDistDir);
    } catch (error) {
      // Another build swapped its output in between: it is as fresh as ours, keep it.
      if (!existsSync(consoleDistDir)) throw error;
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const LOCK = `${consoleDistDir}.lock`;
/** A lock older than this is left over from a killed build. */
const STALE_LOCK_MS = 120_000;

/**
 * Builds the console unless dist/ is already up to date; returns whether it built. One build at a
 * time (a lock directory beside dist/): test files and `npm start` may ask at once, and the second
 * asker waits and then finds the build fresh instead of swapping dist/ under a running test.
 */
export async function ensureConsoleBuilt(): Promise<boolean> {
  if (isConsoleBuildFresh()) return false;
  mkdirSync(path.dirname(LOCK), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const age = Date.now() - (existsSync(LOCK) ? statSync(LOCK).mtimeMs : Date.now());
      if (age > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      else await sleep(200);
    }
  }
  try {
    if (isConsoleBuildFresh()) return false;
    await buildConsole();
    return true;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
