/** Visible errors: a stack of toasts (at most four), each dismissed by hand or after a while. */
import { useCallback, useEffect, useRef, useState } from "react";

const LIFETIME_MS = 8000;
const MAX_SHOWN = 4;

interface Toast {
  readonly id: number;
  readonly message: string;
  readonly detail?: string;
}

/** The toasts shown, and `error(message, detail?)` to show one more. */
export function useToasts(): { toasts: readonly Toast[]; error: (message: string, detail?: string) => void; dismiss: (id: number) => void } {
  const [toasts, setToasts] = useState<readonly Toast[]>([]);
  const next = useRef(0);
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  const dismiss = useCallback((id: number) => setToasts((shown) => shown.filter((toast) => toast.id !== id)), []);
  const error = useCallback(
    (message: string, detail?: string) => {
      const id = next.current++;
      setToasts((shown) => [...shown, { id, message, detail }].slice(-MAX_SHOWN));
      const timer = setTimeout(() => {
        timers.current.delete(timer);
        dismiss(id);
      }, LIFETIME_MS);
      timers.current.add(timer);
    },
    [dismiss],
  );
  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
    };
  }, []);
  return { toasts, error, dismiss };
}

export function Toasts({ toasts, dismiss }: { toasts: readonly Toast[]; dismiss: (id: number) => void }) {
  return (
    <div id="toasts" className="toasts" role="alert" aria-live="assertive">
      {toasts.map((toast) => (
        <div key={toast.id} className="toast error">
          <span className="toast-icon" aria-hidden="true">
            !
          </span>
          <div className="toast-body">
            <div className="toast-message">{toast.message}</div>
            {toast.detail ? <div className="toast-detail">{toast.detail}</div> : null}
          </div>
          <button className="toast-close" type="button" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
