import { actionNames, actions } from '@ora/contracts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { buildOpenApiDocument } from '../openapi';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function renderDocs(openapi: ReturnType<typeof buildOpenApiDocument>): string {
  const sections = actionNames
    .map((name) => {
      const def = actions[name];
      const input = JSON.stringify(z.toJSONSchema(def.input, { io: 'input', unrepresentable: 'any' }), null, 2);
      const output = JSON.stringify(z.toJSONSchema(def.output, { io: 'output', unrepresentable: 'any' }), null, 2);
      const curl = `curl -s http://127.0.0.1:8787/api/ora -H "Authorization: Bearer $ORA_KEY" -H 'Content-Type: application/json' -d '{"action":"${name}","data":{}}'`;
      return `<section id="${name}">
<h2><code>${name}</code></h2>
<p>${escapeHtml(def.summary)}</p>
<p>Scope: <code>${escapeHtml(def.scope ?? 'any valid key')}</code>${def.mutates ? ' · changes state, accepts <code>Idempotency-Key</code>' : ''}</p>
<details><summary>Input</summary><pre>${escapeHtml(input)}</pre></details>
<details><summary>Output</summary><pre>${escapeHtml(output)}</pre></details>
<pre>${escapeHtml(curl)}</pre>
</section>`;
    })
    .join('\n');
  // Every other route of the document (events, the agent endpoint, ops, the public site, docs, admin).
  const others = Object.entries(openapi.paths as Record<string, Record<string, { summary?: string }>>)
    .filter(([path]) => !path.startsWith('/api/ora/') || path === '/api/ora/events')
    .flatMap(([path, item]) =>
      Object.entries(item).map(
        ([method, op]) =>
          `<li><code>${method.toUpperCase()} ${escapeHtml(path)}</code>: ${escapeHtml(op.summary ?? '')}</li>`,
      ),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ORA API</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
pre{background:#f4f4f4;padding:.75rem;overflow:auto;font-size:13px}code{font-size:95%}nav a{margin-right:.75rem}</style></head>
<body><main>
<h1>ORA API</h1>
<p>Every action is <code>POST /api/ora</code> with <code>{"action": "&lt;name&gt;", "data": {...}}</code>, or <code>POST /api/ora/&lt;name&gt;</code> with the data as the body,
and an <code>Authorization: Bearer ora_sk_...</code> header. Success: <code>{"data": ..., "requestId": ...}</code>.
Failure: <code>{"error": {"code", "message", "details"}, "requestId"}</code>. The machine-readable description is <a href="/openapi.json">/openapi.json</a>.</p>
<nav aria-label="Actions">${actionNames.map((n) => `<a href="#${n}">${n}</a>`).join(' ')}</nav>
${sections}
<section id="routes">
<h2>Other routes</h2>
<ul>
${others}
</ul>
</section>
</main></body></html>`;
}

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  const openapi = buildOpenApiDocument();
  const document = JSON.stringify(openapi);
  const html = renderDocs(openapi);
  app.get('/openapi.json', async (_request, reply) => reply.type('application/json; charset=utf-8').send(document));
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(html));
}
