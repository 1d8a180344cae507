/** Visible errors: a stack of toasts, each dismissed by hand or after a while. */
import { h } from "./dom.ts";

const LIFETIME_MS = 8000;

export class Toasts {
  readonly element = h("div", { id: "toasts", class: "toasts", role: "alert", "aria-live": "assertive" });

  error(message: string, detail?: string): void {
    const close = h("button", { class: "toast-close", type: "button", "aria-label": "Dismiss" }, "×");
    const toast = h("div", { class: "toast error" }, h("span", { class: "toast-icon", "aria-hidden": "true" }, "!"), h("div", { class: "toast-body" }, h("div", { class: "toast-message" }, message), detail ? h("div", { class: "toast-detail" }, detail) : null), close);
    const remove = () => toast.remove();
    close.addEventListener("click", remove);
    setTimeout(remove, LIFETIME_MS);
    this.element.append(toast);
    while (this.element.childElementCount > 4) this.element.firstElementChild?.remove();
  }
}
