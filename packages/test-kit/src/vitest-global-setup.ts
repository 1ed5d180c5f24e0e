import type { TestProject } from "vitest/node";
import { resolveTestMongo } from "./mongo-resolver.js";

declare module "vitest" {
  export interface ProvidedContext {
    mongoUri: string;
    mongoSource: string;
  }
}

/** One database server for the whole run; each test file makes its own database on it. */
export default async function setup(project: TestProject) {
  const mongo = await resolveTestMongo();
  project.provide("mongoUri", mongo.uri);
  project.provide("mongoSource", mongo.source);
  return async () => {
    await mongo.stop();
  };
}
