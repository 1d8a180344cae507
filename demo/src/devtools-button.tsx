/**
 * The header's "Devtools" button: mounts the tandem/devtools panel over this page's client
 * (loaded on the first click: the panel's code is not in the page until then), and
 * unmounts it on the next click, with the panel's own close button, or when the board goes.
 */
import { useEffect, useRef, useState } from "react";
import type { Client } from "tandem/client";
import type { Registry } from "../actors.ts";

export function DevtoolsButton({ client }: { client: Client<Registry> }) {
  const [open, setOpen] = useState(false);
  const unmount = useRef<(() => void) | null>(null);

  useEffect(() => {
    if (!open) return;
    let cancelled = false;
    import("tandem/devtools").then(
      ({ mountDevtools }) => {
        if (cancelled) return;
        unmount.current = mountDevtools(client, { onUnmount: () => setOpen(false) });
      },
      (error: unknown) => {
        console.error("The devtools panel did not load:", error);
        setOpen(false);
      },
    );
    return () => {
      cancelled = true;
      unmount.current?.();
      unmount.current = null;
    };
  }, [client, open]);

  return (
    <button id="devtools-toggle" className="ghost" type="button" aria-pressed={open} onClick={() => setOpen((was) => !was)}>
      Devtools
    </button>
  );
}
