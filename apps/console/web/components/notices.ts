import { h } from "../dom.js";

let area: HTMLElement | undefined;

/** The live region messages go to (created once by the shell). */
export function noticeArea(): HTMLElement {
  area ??= h("div", { class: "notices", role: "status", "aria-live": "polite" });
  return area;
}

/** A short message for the operator; the text may come from the API, so it stays text. */
export function notify(message: string, kind: "ok" | "error" = "ok"): void {
  const notice = h("div", { class: `notice ${kind}` }, message);
  noticeArea().appendChild(notice);
  setTimeout(() => notice.remove(), kind === "error" ? 10_000 : 5_000);
}
