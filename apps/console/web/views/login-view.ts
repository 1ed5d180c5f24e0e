import { ApiError, api } from "../api-client.js";
import { fill, h } from "../dom.js";
import { session } from "../session.js";

/**
 * The admin token form. It never submits to the server (no action; the CSP's form-action 'none'
 * backs that up), so the token cannot end up in a URL: it is checked with one admin request and then
 * kept in sessionStorage.
 */
export function loginView(onSignedIn: () => void, reason?: string): HTMLElement {
  const message = h("p", { class: "login-message", role: "alert" }, reason ?? "");
  const token = h("input", {
    type: "password",
    id: "admin-token",
    name: "admin-token",
    autocomplete: "off",
    spellcheck: false,
    required: true,
  });
  const submit = h("button", { type: "submit", class: "button primary" }, "Sign in");
  return h(
    "main",
    { class: "login" },
    h(
      "form",
      {
        method: "post",
        onsubmit: async (event) => {
          event.preventDefault();
          const value = token.value.trim();
          if (!value) return;
          submit.disabled = true;
          fill(message, "Checking…");
          try {
            await api.check(value);
            session.signIn(value);
            token.value = "";
            onSignedIn();
          } catch (error) {
            fill(
              message,
              error instanceof ApiError && error.statusCode === 401
                ? "That token was refused: use the CORE_API_TOKEN of this deployment (npm start: .data/dev.env)."
                : error instanceof ApiError
                  ? error.message
                  : String(error),
            );
          } finally {
            submit.disabled = false;
          }
        },
      },
      h("h1", null, "ECODrIx ops console"),
      h("label", { for: "admin-token" }, "Admin token (x-core-api-key)"),
      token,
      submit,
      message,
      h("p", { class: "hint" }, "The token is kept in this tab only (sessionStorage) and sent as a header."),
    ),
  );
}
