import { h } from "../dom.js";

/** A status as a coloured label; the class comes from a fixed list, the text from the data. */
export function statusBadge(status: string): HTMLElement {
  const known = ["pending", "processing", "completed", "failed", "cancelled", "active", "suspended"];
  return h(
    "span",
    { class: `badge ${known.includes(status) ? `status-${status}` : "status-other"}`, "data-status": status },
    status,
  );
}
