/**
 * `mountDevtools(client, { container? })`: the devtools panel, framework-free DOM. It reads
 * the client through its read-only inspection API (`client.inspect()`), subscribes while
 * mounted and re-renders at most once per animation frame; the returned function unmounts it
 * (and stops listening: the client is back to costing nothing extra). Without a container
 * the panel floats at the bottom right of the page.
 * @public
 */
import { InvalidArguments } from "../../shared/errors.ts";
import type { ClientInspector } from "../inspection.ts";
import { PANEL_CSS } from "./panel-styles.ts";
import { renderSnapshot } from "./render-snapshot.ts";
import type { OpenPaths } from "./state-tree.ts";
import { StorageEstimate } from "./storage-estimate.ts";

export interface DevtoolsOptions {
  /** Where the panel goes (appended to it); default: a floating panel on `document.body`. */
  readonly container?: HTMLElement;
  /** Called once when the panel goes (its close button, or the returned function). */
  readonly onUnmount?: () => void;
}

/** What the panel needs of a client (any `createClient` client). */
export interface InspectableClient {
  inspect(): ClientInspector;
}

export function mountDevtools(client: InspectableClient, options: DevtoolsOptions = {}): () => void {
  if (typeof client !== "object" || client === null || typeof client.inspect !== "function") throw new InvalidArguments("mountDevtools needs a Tandem client (createClient)");
  if (typeof options !== "object" || options === null) throw new InvalidArguments("mountDevtools options must be an object");
  const doc = (globalThis as { document?: Document }).document;
  if (doc === undefined) throw new InvalidArguments("mountDevtools needs a DOM (a browser page)");
  const container = options.container;
  if (container !== undefined && (typeof container !== "object" || container === null || typeof (container as { append?: unknown }).append !== "function")) {
    throw new InvalidArguments("mountDevtools: container must be a DOM element");
  }
  if (options.onUnmount !== undefined && typeof options.onUnmount !== "function") throw new InvalidArguments("mountDevtools: onUnmount must be a function");
  const inspector = client.inspect();
  const panel = doc.createElement("div");
  panel.className = container === undefined ? "tdt-panel tdt-floating" : "tdt-panel";
  panel.id = "tandem-devtools";
  panel.setAttribute("role", "region");
  panel.setAttribute("aria-label", "Tandem devtools");
  const style = doc.createElement("style");
  style.textContent = PANEL_CSS;
  const header = doc.createElement("header");
  const title = doc.createElement("strong");
  title.textContent = "Tandem devtools";
  const close = doc.createElement("button");
  close.type = "button";
  close.className = "tdt-close";
  close.textContent = "×";
  close.setAttribute("aria-label", "Close devtools");
  header.append(title, close);
  const body = doc.createElement("div");
  body.className = "tdt-body";
  panel.append(style, header, body);
  (container ?? doc.body).append(panel);

  const open: OpenPaths = new Set();
  const storage = new StorageEstimate();
  let frame: number | ReturnType<typeof setTimeout> | null = null;
  let mounted = true;
  const schedule = globalThis.requestAnimationFrame?.bind(globalThis) ?? ((run: () => void) => setTimeout(run, 16));
  const cancel = globalThis.cancelAnimationFrame?.bind(globalThis) ?? ((id: unknown) => clearTimeout(id as ReturnType<typeof setTimeout>));

  const render = (): void => {
    frame = null;
    if (!mounted) return;
    try {
      storage.refresh(requestRender);
      body.replaceChildren(renderSnapshot(doc, inspector.snapshot(), storage.current, open));
    } catch (error) {
      body.textContent = `The devtools panel failed to render: ${String(error)}`;
    }
  };
  const requestRender = (): void => {
    if (mounted && frame === null) frame = schedule(render) as number;
  };
  const unsubscribe = inspector.subscribe(requestRender);
  render();

  const unmount = (): void => {
    if (!mounted) return;
    mounted = false;
    unsubscribe();
    storage.dispose();
    if (frame !== null) cancel(frame as number);
    frame = null;
    panel.remove();
    try {
      options.onUnmount?.();
    } catch (error) {
      console.error("The devtools onUnmount callback threw:", error);
    }
  };
  close.addEventListener("click", unmount);
  return unmount;
}
