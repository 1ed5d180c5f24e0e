import { ApiError, whenUnauthorized } from "./api-client.js";
import { noticeArea } from "./components/notices.js";
import { fill, h } from "./dom.js";
import { navigate, parseRoute } from "./router.js";
import { session } from "./session.js";
import { clientView } from "./views/client-view.js";
import { clientsView } from "./views/clients-view.js";
import { jobView } from "./views/job-view.js";
import { jobsView } from "./views/jobs-view.js";
import { loginView } from "./views/login-view.js";
import { overviewView } from "./views/overview-view.js";
import type { View, ViewContext } from "./views/view.js";

/** Live refresh: the current view reloads its data this often while the tab is visible. */
const POLL_MS = 3_000;

function viewFor(ctx: ViewContext): View {
  const route = parseRoute(location.hash);
  switch (route.view) {
    case "overview":
      return overviewView(ctx);
    case "jobs":
      return jobsView(ctx, route.filter);
    case "job":
      return jobView(ctx, route.id);
    case "clients":
      return clientsView();
    case "client":
      return clientView(ctx, route.clientCode);
    case "not-found":
      return {
        title: "Not found",
        element: h(
          "div",
          null,
          h("h1", null, "Nothing here"),
          h("a", { href: "#/overview" }, "Back to the queue"),
        ),
        load: async () => {},
      };
  }
}

/** The signed-in console: navigation, the current view, polling. Returns a function that tears it down. */
function shell(root: HTMLElement, signOut: () => void): () => void {
  const updated = h("span", { class: "updated", "data-testid": "updated" }, "");
  const main = h("main", { class: "content" });
  const navLinks = [
    h("a", { href: "#/overview" }, "Queue"),
    h("a", { href: "#/jobs" }, "Jobs"),
    h("a", { href: "#/clients" }, "Clients"),
  ];
  let current: View;
  let loading = false;
  let again = false;

  const refresh = (): void => {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    const view = current;
    view
      .load()
      .then(() => {
        updated.classList.remove("error");
        fill(updated, `Live · updated ${new Date().toLocaleTimeString()}`);
      })
      .catch((error: unknown) => {
        // Keep the last data on screen and say why it is not fresh.
        if (error instanceof ApiError && error.statusCode === 401) return;
        updated.classList.add("error");
        fill(updated, `Refresh failed: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        loading = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  };
  const ctx: ViewContext = { refresh };

  const show = () => {
    current = viewFor(ctx);
    document.title = `${current.title} · ECODrIx console`;
    const section = { overview: 0, jobs: 1, job: 1, clients: 2, client: 2, "not-found": -1 }[
      parseRoute(location.hash).view
    ];
    for (const [index, link] of navLinks.entries()) link.classList.toggle("active", index === section);
    fill(main, current.element);
    refresh();
  };

  fill(
    root,
    h(
      "header",
      { class: "top" },
      h("span", { class: "brand" }, "ECODrIx ops"),
      h("nav", null, ...navLinks),
      updated,
      h("button", { type: "button", class: "button small", onclick: refresh }, "Refresh now"),
      h("button", { type: "button", class: "button small", onclick: signOut }, "Sign out"),
    ),
    main,
    noticeArea(),
  );

  const onVisible = () => {
    if (!document.hidden) refresh();
  };
  window.addEventListener("hashchange", show);
  document.addEventListener("visibilitychange", onVisible);
  const timer = setInterval(() => {
    if (!document.hidden) refresh();
  }, POLL_MS);
  if (!location.hash) navigate("#/overview");
  else show();

  return () => {
    clearInterval(timer);
    window.removeEventListener("hashchange", show);
    document.removeEventListener("visibilitychange", onVisible);
  };
}

/** Shows the login form or the console, and goes back to the form when the API refuses the token. */
export function startConsole(root: HTMLElement): void {
  let stop: (() => void) | undefined;
  const showLogin = (reason?: string) => {
    stop?.();
    stop = undefined;
    fill(root, loginView(showConsole, reason));
    root.querySelector("input")?.focus();
  };
  const showConsole = () => {
    stop?.();
    stop = shell(root, () => {
      session.signOut();
      showLogin("Signed out.");
    });
  };
  whenUnauthorized(() => {
    session.signOut();
    showLogin("The API refused the token (it may have changed): sign in again.");
  });
  if (session.token()) showConsole();
  else showLogin();
}
