/**
 * The Tandem demo: a collaborative board (shared notes + todos) that works offline.
 * URL: ?board=<key> (default "main"), ?mode=view for the read-only viewer.
 */
import "./style.css";
import { mountBoard } from "./board.ts";
import { mountSignIn } from "./signin.ts";

const NAME_KEY = "tandem-demo:name";
const search = new URLSearchParams(location.search);
const boardKey = search.get("board")?.trim() || "main";
const viewer = search.get("mode") === "view";
const root = document.getElementById("app")!;

function start(): void {
  const name = localStorage.getItem(NAME_KEY);
  if (name) {
    mountBoard(root, {
      name,
      boardKey,
      viewer,
      onSignOut: () => {
        localStorage.removeItem(NAME_KEY);
        start();
      },
    });
  } else {
    mountSignIn(root, {
      boardKey,
      viewer,
      onSignIn: (chosen) => {
        localStorage.setItem(NAME_KEY, chosen);
        start();
      },
    });
  }
}

start();

// The app shell is cached by a service worker, so a reload with the server unreachable
// still opens the board (its data comes from IndexedDB).
if ("serviceWorker" in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register("/sw.js").catch((error: unknown) => console.warn("Service worker not registered:", error));
}
