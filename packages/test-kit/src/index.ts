export * from "./embedded-mongo.js";
export * from "./mongo-resolver.js";
export * from "./processes.js";
export * from "./test-mongo.js";
