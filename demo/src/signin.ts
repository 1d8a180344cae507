/** Sign-in by name: the name becomes `params.name` (the board's onAuth). */
import { MAX_NAME_LENGTH } from "../actors.ts";
import { h } from "./dom.ts";

export function mountSignIn(root: HTMLElement, options: { boardKey: string; viewer: boolean; onSignIn: (name: string) => void }): void {
  const input = h("input", { id: "name", name: "name", required: true, maxlength: MAX_NAME_LENGTH, autocomplete: "nickname", placeholder: "Ada", autofocus: true });
  const form = h(
    "form",
    { id: "sign-in", class: "card" },
    h("div", { class: "brand big" }, h("span", { class: "logo", "aria-hidden": "true" }), h("span", { class: "brand-name" }, "Tandem")),
    h("h1", {}, options.viewer ? "Watch this board" : "Join the board"),
    h(
      "p",
      { class: "lede" },
      "Shared notes and todos that keep working offline. Board ",
      h("strong", {}, options.boardKey),
      options.viewer ? " — read-only." : ".",
    ),
    h("label", { for: "name" }, "Your name"),
    input,
    h("button", { type: "submit", class: "primary wide" }, options.viewer ? "Watch" : "Join"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (name) options.onSignIn(name);
  });
  root.replaceChildren(h("main", { class: "signin" }, form));
  input.focus();
}
