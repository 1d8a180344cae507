/** A tiny element builder: h("li", { class: "todo", dataset: { id } }, "text", child). */
type Attrs = Record<string, string | number | boolean | undefined | Record<string, string>> & {
  dataset?: Record<string, string>;
  style?: Record<string, string>;
};

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Node | string | null | undefined | false)[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key === "dataset") Object.assign(element.dataset, value);
    else if (key === "style") for (const [prop, v] of Object.entries(value as Record<string, string>)) element.style.setProperty(prop, v);
    else if (value === true) element.setAttribute(key, "");
    else element.setAttribute(key, String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}
