/**
 * React in vitest's jsdom environment without a testing library: a root rendered with
 * flushSync (no act() environment needed; later updates come from the network and are
 * awaited with waitFor), unmounted by the test or after it.
 */
import { createElement, StrictMode, type ReactNode } from "react";
import { flushSync } from "react-dom";
import { createRoot, type Root } from "react-dom/client";
import { afterEach } from "vitest";

export interface TestRoot {
  readonly container: HTMLElement;
  render(node: ReactNode): void;
  unmount(): void;
}

/** Roots made by `mount` are unmounted after each test (before the network closes). */
export function useReactRoots(): { mount(node: ReactNode, options?: { strict?: boolean }): TestRoot } {
  const roots: TestRoot[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) root.unmount();
  });
  return {
    mount(node, options = {}) {
      const container = document.createElement("div");
      document.body.append(container);
      const react: Root = createRoot(container);
      let mounted = true;
      const wrap = (child: ReactNode) => (options.strict ? createElement(StrictMode, null, child) : child);
      const root: TestRoot = {
        container,
        render(next) {
          flushSync(() => react.render(wrap(next)));
        },
        unmount() {
          if (!mounted) return;
          mounted = false;
          flushSync(() => react.unmount());
          container.remove();
        },
      };
      roots.push(root);
      root.render(node);
      return root;
    },
  };
}
