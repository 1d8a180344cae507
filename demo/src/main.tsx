/// <reference types="vite/client" />
/**
 * The Tandem demo: a collaborative board (shared notes + todos) that works offline.
 * URL: ?board=<key> (default "main"), ?mode=view for the read-only viewer.
 *
 * Signed in, the page makes the user's client and renders the board under a
 * TandemProvider (StrictMode: the hooks share one connection across its double mount).
 * Signing out unmounts the board, then disposes the client.
 */
import "./style.css";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { TandemProvider } from "tandem/react";
import { Board } from "./board.tsx";
import { createBoardClient } from "./board-client.ts";
import { mountSignIn } from "./signin.ts";

const NAME_KEY = "tandem-demo:name";
const search = new URLSearchParams(location.search);
const boardKey = search.get("board")?.trim() || "main";
const viewer = search.get("mode") === "view";
const root = document.getElementById("app")!;

function start(): void {
  const name = localStorage.getItem(NAME_KEY);
  if (name) mountBoard(name);
  else {
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

function mountBoard(name: string): void {
  const client = createBoardClient(name);
  const board = createRoot(root);
  const signOut = () => {
    board.unmount();
    client.dispose();
    localStorage.removeItem(NAME_KEY);
    start();
  };
  board.render(
    <StrictMode>
      <TandemProvider client={client}>
        <Board name={name} boardKey={boardKey} viewer={viewer} onSignOut={signOut} />
      </TandemProvider>
    </StrictMode>,
  );
}

start();

// The app shell is cached by a service worker, so a reload with the server unreachable
// still opens the board (its data comes from IndexedDB).
if ("serviceWorker" in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register("/sw.js").catch((error: unknown) => console.warn("Service worker not registered:", error));
}
