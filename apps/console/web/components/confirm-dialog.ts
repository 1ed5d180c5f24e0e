import { h } from "../dom.js";

export interface ConfirmOptions {
  title: string;
  /** Plain sentences (rendered as text). */
  body: string[];
  confirmLabel: string;
  danger?: boolean;
}

/**
 * Asks before an action changes anything (requeue, cancel, kill, rotate key). An in-page <dialog>,
 * not window.confirm: it can say what will happen in full, and the page never opens a native dialog.
 */
export function confirmAction(options: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h("button", { type: "button", class: "button" }, "Cancel");
    const confirm = h(
      "button",
      {
        type: "button",
        class: options.danger ? "button danger" : "button primary",
        "data-testid": "confirm",
      },
      options.confirmLabel,
    );
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-label": options.title },
      h("h2", null, options.title),
      ...options.body.map((line) => h("p", null, line)),
      h("div", { class: "actions" }, cancel, confirm),
    );
    let answered = false;
    const answer = (value: boolean) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancel.addEventListener("click", () => answer(false));
    confirm.addEventListener("click", () => answer(true));
    // Escape closes the dialog: that is a "no".
    dialog.addEventListener("close", () => answer(false));
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
