import type { TestProject } from "vitest/node";
import { resolveTestMongo } from "./mongo-resolver.js";
import { probeServerCapabilities, type ServerCapabilities } from "./server-capabilities.js";

declare module "vitest" {
  export interface ProvidedContext {
    mongoUri: string;
    /** `env` (MONGODB_URI), `testcontainers`, `embedded` or `ferretdb`. */
    mongoSource: string;
    /** What the server can do; tests skip (with the reason) what it cannot. */
    mongoCapabilities: ServerCapabilities;
  }
}

/** One database server for the whole run; each test file makes its own database on it. */
export default async function setup(project: TestProject) {
  const mongo = await resolveTestMongo();
  try {
    const capabilities = await probeServerCapabilities(mongo.uri);
    project.provide("mongoUri", mongo.uri);
    project.provide("mongoSource", mongo.source);
    project.provide("mongoCapabilities", capabilities);
    console.log(
      `test server: ${capabilities.server} (${mongo.source}) at ${mongo.uri.replace(/\/\/[^@/]*@/, "//")}; ` +
        `change streams ${capabilities.changeStreams ? "yes" : "no"}, transactions ${capabilities.transactions ? "yes" : "no"}, ` +
        `partial indexes ${capabilities.partialIndexes ? "yes" : "no"}, explain ${capabilities.explain}`,
    );
  } catch (error) {
    await mongo.stop();
    throw error;
  }
  return async () => {
    await mongo.stop();
  };
}
