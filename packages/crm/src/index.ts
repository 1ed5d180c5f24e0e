export * from "./crm-capabilities.js";
export * from "./scoring/score-recalculation-job.js";
