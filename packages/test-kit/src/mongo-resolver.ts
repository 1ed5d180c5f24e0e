import { existsSync } from "node:fs";
import { type EmbeddedMongo, startEmbeddedMongo } from "./embedded-mongo.js";

export interface ResolvedMongo {
  uri: string;
  /** Where the server came from: `MONGODB_URI`, `testcontainers` or `embedded`. */
  source: "env" | "testcontainers" | "embedded";
  stop(): Promise<void>;
}

function dockerLooksReachable(env: NodeJS.ProcessEnv): boolean {
  if (env.TESTCONTAINERS_DISABLED === "true") return false;
  return Boolean(env.DOCKER_HOST) || existsSync("/var/run/docker.sock");
}

/**
 * The test database server, in the documented order: `MONGODB_URI` when set (a real MongoDB);
 * else testcontainers' MongoDB module when a Docker engine answers; else the embedded server.
 */
export async function resolveTestMongo(env: NodeJS.ProcessEnv = process.env): Promise<ResolvedMongo> {
  if (env.MONGODB_URI) {
    return { uri: env.MONGODB_URI, source: "env", stop: async () => {} };
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
  const embedded: EmbeddedMongo = await startEmbeddedMongo({ backend: "memory" });
  return { uri: embedded.uri, source: "embedded", stop: () => embedded.stop() };
}
