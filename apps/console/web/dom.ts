// The one way the console creates DOM. Strings always become text nodes and attributes are set with
// setAttribute, so data from the API (job payloads, errors, client names) can never become markup.
// There is no innerHTML anywhere in the console (console-sources.test.ts checks), and the CSP's
// Trusted Types directive makes the browser refuse it too.

export type Child = Node | string | number | null | undefined | false;

type Handler<E extends Event> = (event: E) => void;

export interface Props {
  class?: string;
  id?: string;
  /** Internal links only: "#/…" (a data-derived `javascript:` URL is impossible by construction). */
  href?: `#/${string}`;
  title?: string;
  type?: string;
  name?: string;
  value?: string;
  placeholder?: string;
  autocomplete?: string;
  for?: string;
  role?: string;
  method?: string;
  open?: boolean;
  disabled?: boolean;
  required?: boolean;
  readonly?: boolean;
  selected?: boolean;
  spellcheck?: boolean;
  "aria-label"?: string;
  "aria-live"?: "polite" | "assertive";
  "data-testid"?: string;
  "data-status"?: string;
  onclick?: Handler<MouseEvent>;
  onsubmit?: Handler<SubmitEvent>;
  onchange?: Handler<Event>;
  oninput?: Handler<Event>;
  ontoggle?: Handler<Event>;
}

const BOOLEAN_PROPS = new Set(["open", "disabled", "required", "readonly", "selected"]);

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** `h("td", { class: "mono" }, job.type)`: an element whose string children are text, never markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value as EventListener);
    } else if (BOOLEAN_PROPS.has(key)) {
      if (value === true) element.setAttribute(key, "");
    } else if (key === "href" && !String(value).startsWith("#/")) {
      throw new Error("h(): only internal #/ links are allowed");
    } else if (
      key === "value" &&
      (element instanceof HTMLInputElement || element instanceof HTMLOptionElement)
    ) {
      element.value = String(value);
    } else {
      element.setAttribute(key, String(value));
    }
  }
  append(element, children);
  return element;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** SVG elements for the chart; attributes are numbers or fixed strings, text children are text nodes. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  append(element, children);
  return element;
}

/** Replaces an element's content with the given children (text stays text). */
export function fill(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}
