import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export interface AdminAsset {
  body: Buffer;
  type: string;
}

export interface AdminAssets {
  /** The page: it loads the hashed script and stylesheet and nothing inline. */
  html: string;
  /** Hashed asset file names (as under /admin/assets/) to their contents. */
  files: Map<string, AdminAsset>;
  /** How long the build took. */
  buildMs: number;
}

/**
 * The admin pages' Content-Security-Policy: scripts and styles from this origin only (no inline
 * script, no inline style sheet, no eval), data only from this origin, no framing, no plugins.
 */
export const ADMIN_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Bundles the UI with esbuild, in memory (about a quarter of a second): the API calls this on the
 * first request for /admin and keeps the result, so `pnpm start` needs no build step and starts no
 * slower, and a source change is picked up by the next start.
 */
export async function buildAdmin(options: { minify?: boolean } = {}): Promise<AdminAssets> {
  const started = performance.now();
  // Loaded here, not at the top: a server that never serves /admin never loads esbuild.
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: { app: fileURLToPath(new URL('./ui/main.tsx', import.meta.url)) },
    bundle: true,
    write: false,
    outdir: '/admin-assets',
    entryNames: '[name]-[hash]',
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    minify: options.minify ?? true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const files = new Map<string, AdminAsset>();
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    const ext = name.slice(name.lastIndexOf('.'));
    files.set(name, { body: Buffer.from(file.contents), type: TYPES[ext] ?? 'application/octet-stream' });
  }
  const script = [...files.keys()].find((n) => n.endsWith('.js'));
  const style = [...files.keys()].find((n) => n.endsWith('.css'));
  if (!script || !style) throw new Error('the admin build produced no script or no stylesheet');
  const version = createHash('sha256')
    .update([...files.keys()].join())
    .digest('hex')
    .slice(0, 12);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="ora-admin-version" content="${version}">
<title>ORA admin</title>
<link rel="stylesheet" href="/admin/assets/${style}">
<script type="module" src="/admin/assets/${script}"></script>
</head>
<body>
<div id="root"><p>Loading the ORA admin…</p></div>
<noscript>The ORA admin needs JavaScript.</noscript>
</body>
</html>
`;
  return { html, files, buildMs: Math.round(performance.now() - started) };
}
