/** The panel's CSS, scoped under `.tdt-panel` (the panel brings its own <style>). */
export const PANEL_CSS = `
.tdt-panel { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; color: #1f2328; background: #fbfbfc;
  border: 1px solid #c9ced6; border-radius: 8px; box-shadow: 0 6px 24px rgba(0,0,0,.18); overflow: auto; }
.tdt-panel.tdt-floating { position: fixed; right: 12px; bottom: 12px; width: 440px; max-height: 70vh; z-index: 2147483000; }
.tdt-panel header { display: flex; justify-content: space-between; align-items: center; padding: 6px 10px; background: #24292f; color: #fff; position: sticky; top: 0; }
.tdt-panel header button { background: none; border: 0; color: #fff; cursor: pointer; font: inherit; }
.tdt-panel h3 { font-size: 12px; margin: 8px 0 4px; }
.tdt-panel section, .tdt-panel .tdt-client { padding: 6px 10px; border-top: 1px solid #e3e6ea; }
.tdt-panel dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0; }
.tdt-panel dt { color: #57606a; } .tdt-panel dd { margin: 0; word-break: break-all; }
.tdt-panel table { border-collapse: collapse; width: 100%; }
.tdt-panel td, .tdt-panel th { text-align: left; padding: 1px 4px; border-bottom: 1px solid #eef0f2; vertical-align: top; overflow-wrap: anywhere; }
.tdt-panel td:not(:last-child), .tdt-panel th:not(:last-child) { white-space: nowrap; overflow-wrap: normal; }
.tdt-panel ul { list-style: none; margin: 0; padding-left: 14px; }
.tdt-panel summary { cursor: pointer; color: #57606a; }
.tdt-panel .tdt-key { color: #8250df; } .tdt-panel .tdt-string { color: #0a3069; } .tdt-panel .tdt-number { color: #0550ae; }
.tdt-panel .tdt-note, .tdt-panel .tdt-empty { color: #8c959f; font-style: italic; }
.tdt-panel [data-status="synced"] .tdt-status, .tdt-panel tr[data-status="confirmed"] .tdt-entry-status { color: #1a7f37; }
.tdt-panel [data-status="offline"] .tdt-status, .tdt-panel tr[data-status="rejected"] .tdt-entry-status { color: #cf222e; }
.tdt-panel [data-status="syncing"] .tdt-status, .tdt-panel [data-status="connecting"] .tdt-status,
.tdt-panel tr[data-status="queued"] .tdt-entry-status, .tdt-panel tr[data-status="sent"] .tdt-entry-status { color: #9a6700; }
`;
