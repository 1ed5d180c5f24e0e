export * from "./config/config.js";
export * from "./errors/app-error.js";
export * from "./lifecycle/stop-with-parent.js";
export * from "./logging/logger.js";
export * from "./mongo/mongo.js";
