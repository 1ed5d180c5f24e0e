// The Google integration's API side (`@ecodrix/integrations/google-oauth`): the browser OAuth flow and
// the connection routes' service. google-auth-library only; googleapis stays in the worker.
export * from "./google-connect-service.js";
export * from "./google-oauth-client.js";
