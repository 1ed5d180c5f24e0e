import type { FastifyReply } from "fastify";

/** Text made safe for HTML: every value interpolated into a page goes through this. */
export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char] ?? char,
  );
}

export interface HtmlPage {
  status: number;
  title: string;
  /** Plain-text paragraphs (escaped here). */
  paragraphs: readonly string[];
}

/** A small self-contained page: no scripts, no external resources. */
export function renderPage({ title, paragraphs }: Pick<HtmlPage, "title" | "paragraphs">): string {
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)} · ECODrIx</title>`,
    "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222}h1{font-size:1.4rem}</style>",
    "</head><body>",
    `<h1>${escapeHtml(title)}</h1>`,
    ...paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    "</body></html>",
  ].join("\n");
}

/**
 * Sends a page. The headers keep its URL's credentials (a connect link, an OAuth code) out of referrers
 * and caches, and forbid scripts and framing.
 */
export function sendPage(reply: FastifyReply, page: HtmlPage): FastifyReply {
  return reply
    .status(page.status)
    .header("content-type", "text/html; charset=utf-8")
    .header("cache-control", "no-store")
    .header("referrer-policy", "no-referrer")
    .header("x-content-type-options", "nosniff")
    .header(
      "content-security-policy",
      "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    )
    .send(renderPage(page));
}
