// The page the renderer runs in, and its Content-Security-Policy (no Node, no esbuild: the
// Electron main process imports this).

/**
 * The page's Content-Security-Policy. Scripts and styles only from the app itself (no inline
 * script or style, no eval); images from anywhere over http(s) (results: a generated image, a
 * post's cover); in Electron no network at all (everything goes through the preload bridge), in
 * web mode only the local bridge server.
 */
export function rendererCsp(mode: 'electron' | 'web', options: { header?: boolean } = {}): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: https: http:",
    `connect-src ${mode === 'web' ? "'self'" : "'none'"}`,
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
    // Only an HTTP header can forbid framing (a <meta> policy may not say it).
    ...(options.header ? ["frame-ancestors 'none'"] : []),
  ].join('; ');
}

/** The page: the shell the script fills in. `token` is web mode's bridge session token. */
export function rendererHtml(options: { mode: 'electron' | 'web'; token?: string }): string {
  const token = options.token ? `<meta name="ora-bridge-token" content="${options.token.replace(/[^\w-]/g, '')}">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${rendererCsp(options.mode)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
${token}
<title>ORA</title>
<link rel="stylesheet" href="renderer.css">
</head>
<body>
<header>
  <h1>ORA</h1>
  <span id="sync-state" class="pill" data-testid="sync-state">…</span>
  <span id="pending"></span>
  <span class="spacer"></span>
  <button id="new-thread" type="button">New thread</button>
  <button id="sync-now" type="button">Sync now</button>
  <button id="notify" type="button" title="Allow system notifications">Notifications</button>
  <button id="open-settings" type="button">Server</button>
</header>
<main>
  <section class="chat" aria-label="Conversation">
    <ol id="messages" aria-live="polite"></ol>
    <form id="composer">
      <textarea id="composer-input" rows="2" placeholder="Ask ORA, or /task, /workflow, /remember, /forget, /status, /approve, /cancel, /sync" aria-label="Message"></textarea>
      <button class="primary" type="submit">Send</button>
    </form>
  </section>
  <aside>
    <section aria-label="Tasks"><h2>Tasks</h2><p id="tasks-empty" class="muted">No tasks yet.</p><ul id="task-list"></ul></section>
    <section aria-label="Conflict inbox"><h2>Conflict inbox <span id="inbox-count" class="count" hidden>0</span></h2><p id="inbox-empty" class="muted">Nothing to decide.</p><ul id="conflict-list"></ul></section>
    <section aria-label="Memory"><h2>Memory</h2><input id="memory-query" type="search" placeholder="Search local memory" aria-label="Search memory"><p id="memory-note" class="muted"></p><ul id="memory-list"></ul></section>
  </aside>
</main>
<div id="toasts" aria-live="polite"></div>
<dialog id="settings">
  <form id="settings-form">
    <strong>Connect to your ORA server</strong>
    <label>Server URL <input id="server-url" type="url" required placeholder="http://127.0.0.1:8787"></label>
    <label>Key <input id="api-key" type="password" required placeholder="ora_sk_..."></label>
    <button class="primary" type="submit">Connect</button>
  </form>
</dialog>
<script src="renderer.js"></script>
</body>
</html>
`;
}
