// Views are addressed by the URL's hash (#/jobs/…): the page never reloads and the server serves
// one index.html. The hash carries view names, ids and filters, never the token.

export type Route =
  | { view: "overview" }
  | { view: "jobs"; filter: URLSearchParams }
  | { view: "job"; id: string }
  | { view: "clients" }
  | { view: "client"; clientCode: string }
  | { view: "not-found"; path: string };

function decode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "") || "/";
  const [path = "/", query = ""] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "overview")) return { view: "overview" };
  if (parts[0] === "jobs" && parts.length === 1) return { view: "jobs", filter: new URLSearchParams(query) };
  if (parts[0] === "jobs" && parts.length === 2) {
    const id = decode(parts[1] ?? "");
    if (id) return { view: "job", id };
  }
  if (parts[0] === "clients" && parts.length === 1) return { view: "clients" };
  if (parts[0] === "clients" && parts.length === 2) {
    const clientCode = decode(parts[1] ?? "");
    if (clientCode) return { view: "client", clientCode };
  }
  return { view: "not-found", path };
}

export function navigate(hash: `#/${string}`): void {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = hash;
}
