export * from "./config/config.js";
export * from "./errors/app-error.js";
export * from "./logging/logger.js";
export * from "./mongo/mongo.js";
export * from "./queue/job-handler.js";
export * from "./queue/job-types.js";
export * from "./queue/queue.js";
export * from "./queue/worker-runner.js";
