import { existsSync } from "node:fs";
import { type EmbeddedMongo, startEmbeddedMongo } from "./embedded-mongo.js";
import { startFerretDb } from "./ferretdb.js";

export interface ResolvedMongo {
  uri: string;
  /** Where the server came from: `MONGODB_URI`, testcontainers, the embedded server or FerretDB. */
  source: "env" | "testcontainers" | "embedded" | "ferretdb";
  stop(): Promise<void>;
}

/** The values `ECODRIX_TEST_BACKEND` takes. */
export const TEST_BACKENDS = ["embedded", "ferretdb"] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

function dockerLooksReachable(env: NodeJS.ProcessEnv): boolean {
  if (env.TESTCONTAINERS_DISABLED === "true") return false;
  return Boolean(env.DOCKER_HOST) || existsSync("/var/run/docker.sock");
}

/** `ECODRIX_TEST_BACKEND`, checked: unset (the default order) or one of TEST_BACKENDS. */
export function requestedTestBackend(env: NodeJS.ProcessEnv = process.env): TestBackend | undefined {
  const value = env.ECODRIX_TEST_BACKEND?.trim();
  if (!value) return undefined;
  if ((TEST_BACKENDS as readonly string[]).includes(value)) return value as TestBackend;
  throw new Error(
    `ECODRIX_TEST_BACKEND must be one of ${TEST_BACKENDS.join(", ")} (or unset); got "${value}"`,
  );
}

async function embedded(): Promise<ResolvedMongo> {
  const server: EmbeddedMongo = await startEmbeddedMongo({ backend: "memory" });
  return { uri: server.uri, source: "embedded", stop: () => server.stop() };
}

/**
 * The test database server, in the documented order: `MONGODB_URI` when set (a real MongoDB);
 * else the backend `ECODRIX_TEST_BACKEND` names (`embedded`, or `ferretdb`: FerretDB on PostgreSQL,
 * started if it is not running); else testcontainers' MongoDB module when a Docker engine answers;
 * else the embedded server.
 */
export async function resolveTestMongo(env: NodeJS.ProcessEnv = process.env): Promise<ResolvedMongo> {
  if (env.MONGODB_URI) {
    return { uri: env.MONGODB_URI, source: "env", stop: async () => {} };
  }
  const backend = requestedTestBackend(env);
  if (backend === "embedded") return embedded();
  if (backend === "ferretdb") {
    const ferret = await startFerretDb(env);
    return { uri: ferret.uri, source: "ferretdb", stop: () => ferret.stop() };
  }
  if (dockerLooksReachable(env)) {
    try {
      const { MongoDBContainer } = await import("@testcontainers/mongodb");
      const container = await new MongoDBContainer("mongo:7").start();
      return {
        uri: `${container.getConnectionString()}?directConnection=true`,
        source: "testcontainers",
        stop: async () => {
          await container.stop();
        },
      };
    } catch {
      // No engine behind the socket: fall through to the embedded server.
    }
  }
  return embedded();
}
