// The Google integration's worker side (`@ecodrix/integrations/google`): loads googleapis, so only the
// worker imports it. The API uses `@ecodrix/integrations/google-oauth`; producers the package root.
export * from "./create-meet-job.js";
export * from "./google-errors.js";
