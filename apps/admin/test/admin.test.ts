import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  chromiumLaunchOptions,
  createWebhookReceiver,
  type FakeProvider,
  type FakeRequest,
  type FakeStep,
  startFakeAnthropic,
  startFakeOpenAI,
  type WebhookReceiver,
} from '@ora/testkit';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer } from '../../api/test/harness';

// One server (embedded: PGlite, in-process worker, fake LLM providers) and one browser for the file.
const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts/admin');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const USAGE = { input: 1000, output: 200 };
const WIDTHS = [1280, 390] as const;

const BODY = `AI safety is the work of making AI systems do what people intend.

## Why it matters

Systems that act in the world can cause harm when their goals drift.`;

/** What the fake providers answer: the Writer drafts a post and remembers the tone; others just finish. */
function script(req: FakeRequest): FakeStep | undefined {
  if (req.allText.includes('FAIL-ME')) {
    return req.provider === 'openai'
      ? { error: 'bad_request', message: 'this model cannot summarise launches' }
      : { text: 'Launch summary, written on Claude.', usage: USAGE };
  }
  if (req.system.includes('You are Writer')) {
    if (req.toolResultCount === 0) {
      return {
        toolCalls: [
          { name: 'posts_write', arguments: { title: 'Admin UI live', body: BODY, tags: ['ai'] } },
          {
            name: 'memory_write',
            arguments: {
              type: 'preference',
              key: 'audience.tone',
              content: 'plain words for busy readers',
              summary: 'Tone: plain words for busy readers',
            },
          },
        ],
        usage: USAGE,
        // Slow enough that the graph shows the step running before it succeeds.
        delayMs: 2500,
      };
    }
    return { text: 'Draft saved.', usage: USAGE };
  }
  return { text: 'Done.', usage: USAGE, delayMs: 200 };
}

describe('the admin web UI (embedded server, chromium)', () => {
  let server: TestServer;
  let base: string;
  let openai: FakeProvider;
  let anthropic: FakeProvider;
  let receiver: WebhookReceiver;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  const state: { workflowTaskId?: string; retriedTaskId?: string; webhookId?: string; postId?: string } = {};

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [openai, anthropic, receiver] = await Promise.all([
      startFakeOpenAI(),
      startFakeAnthropic(),
      createWebhookReceiver(),
    ]);
    openai.handle(script);
    anthropic.handle(script);
    server = await startTestServer('embedded', {
      env: {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.baseURL,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: anthropic.baseURL,
        ORA_DEFAULT_MODEL: 'openai/gpt-4o-mini',
        ORA_WEBHOOK_ALLOW_PRIVATE: 'true',
        ORA_EVENTS_POLL_MS: '50',
      },
      taskHandlers: {
        byType: { 'admin.note': async ({ task }) => ({ status: 'success', output: { noted: task.title } }) },
      },
      tasks: { worker: { concurrency: 4, heartbeatMs: 200, backoffBaseMs: 100 }, maintenanceIntervalMs: 200 },
    });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.address();
    if (!address || typeof address === 'string') throw new Error('the server did not listen on a port');
    base = `http://127.0.0.1:${address.port}`;
    browser = await chromium.launch(chromiumLaunchOptions);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await Promise.all([openai?.close(), anthropic?.close(), receiver?.close()]);
  });

  /** Same-document navigation, as clicking a link does: the event stream stays open. */
  async function go(hash: string, heading?: string | RegExp) {
    await page.evaluate((h) => {
      location.hash = h;
    }, hash);
    if (heading) await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  async function api<T = any>(action: string, data?: unknown, key = server.rootKey) {
    const res = await fetch(`${base}/api/ora`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ action, data: data ?? {} }),
    });
    return { status: res.status, body: (await res.json()) as { data: T; error?: { code: string } } };
  }

  async function seriousViolations(label: string) {
    if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
    const found = await page.evaluate(async () => {
      const result = await (window as any).axe.run(document, { resultTypes: ['violations'] });
      return result.violations.map((v: any) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 3).map((n: any) => n.target.join(' ')),
      }));
    });
    return found
      .filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical')
      .map((v: object) => ({ view: label, ...v }));
  }

  it('serves /admin with a strict CSP and no inline script, and signs in with a key kept in session storage only', async () => {
    const res = await fetch(`${base}/admin`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    const script = /src="(\/admin\/assets\/app-[\w-]+\.js)"/.exec(html)?.[1] as string;
    const asset = await fetch(`${base}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const missing = await fetch(`${base}/admin/assets/app-nope.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');

    await page.goto(`${base}/admin`);
    await page.getByLabel('API key').waitFor();
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      await page.screenshot({ path: path.join(ARTIFACTS, `sign-in-${width}.png`), fullPage: true });
      expect(await seriousViolations(`sign-in at ${width}px`)).toEqual([]);
    }

    // A wrong key is refused with the API's error shown.
    await page.getByLabel('API key').fill('ora_sk_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'UNAUTHORIZED' }).waitFor();

    // By keyboard: type the key and press Enter.
    await page.getByLabel('API key').fill(server.rootKey);
    await page.getByLabel('API key').press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('ora.admin.key'))).toBe(server.rootKey);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await page.getByTestId('stream-state').filter({ hasText: 'live' }).waitFor();

    // The view's heading has focus after navigation; the skip button (first in the tab order, shown
    // when focused) moves focus to the content.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Overview');
    const firstFocusable = await page.evaluate(
      () => document.querySelector('button, a[href], input, select, textarea, [tabindex="0"]')?.textContent,
    );
    expect(firstFocusable).toBe('Skip to content');
    await page.locator('button.skip').focus();
    const box = await page.locator('button.skip').boundingBox();
    expect(box && box.x >= 0 && box.y >= 0).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
  });

  it('runs a workflow from the form and shows it live in the chain graph until every step succeeded, without a reload', async () => {
    await go('#/tasks', 'Tasks');
    const form = page.getByRole('form', { name: 'Run a workflow' });
    await form.getByLabel('topic (required)').fill('admin ui');
    await form.getByLabel('keywords').fill('ai safety');
    await form.getByRole('button', { name: 'Run workflow' }).click();
    await page.waitForURL(/#\/tasks\/[0-9a-f-]{36}$/);
    state.workflowTaskId = page.url().split('/').at(-1) as string;
    const loads = await page.evaluate(() => performance.getEntriesByType('navigation').length);

    const graph = page.getByTestId('chain-graph');
    await graph.locator('a.node').nth(3).waitFor();
    // The draft step is seen running, then every step succeeded: the graph follows the event stream.
    await graph.locator('a.node[data-task-type="write_post"][data-status="running"]').waitFor({ timeout: 15_000 });
    await page.waitForFunction(
      () => {
        const nodes = [...document.querySelectorAll('[data-testid="chain-graph"] a.node')];
        return nodes.length === 4 && nodes.every((n) => n.getAttribute('data-status') === 'success');
      },
      null,
      { timeout: 30_000 },
    );
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(loads);
    // Each node is a link whose name is the step's title and status, as a screen reader reads it.
    const draft = graph.getByRole('link', { name: /^Write a draft about admin ui:\s*success · writer$/ });
    expect(await draft.count()).toBe(1);
  }, 60_000);

  it("opens the workflow step's timeline: status changes, the run with its transcript and tool calls, memory writes, the key", async () => {
    const timeline = page.getByTestId('timeline');
    await timeline.locator('li[data-kind="memory"]').filter({ hasText: 'audience.tone' }).waitFor();
    const kinds = await timeline.locator('li').evaluateAll((items) => items.map((i) => i.getAttribute('data-kind')));
    expect(kinds.filter((k) => k === 'status').length).toBeGreaterThanOrEqual(3);
    expect(kinds).toContain('run');
    const facts = page.getByTestId('task-facts');
    expect(await facts.textContent()).toContain('2,400 tokens');
    expect(await page.getByTestId('created-by').textContent()).not.toBe('the server');

    await timeline.locator('li[data-kind="run"] summary').first().click();
    const run = timeline.locator('li[data-kind="run"] .run').first();
    expect(await run.textContent()).toContain('posts.write');
    expect(await run.textContent()).toContain('memory.write');
    const post = (await call(server, server.rootKey, 'tasks.get', { id: state.workflowTaskId })).body.data;
    state.postId = post.output.postId;
    expect(state.postId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('starts a task from the form, watches it fail, retries it on another model and compares the two runs', async () => {
    await go('#/tasks', 'Tasks');
    const form = page.getByRole('form', { name: 'Start a task' });
    await form.getByLabel('Agent').selectOption('writer');
    await form.getByLabel('Title').fill('Summarise the FAIL-ME launch');
    await form.getByLabel('Input (JSON object)').fill('{"topic": "launch"}');
    await form.getByRole('button', { name: 'Create task' }).click();
    await page.waitForURL(/#\/tasks\/[0-9a-f-]{36}$/);
    state.retriedTaskId = page.url().split('/').at(-1) as string;
    const facts = page.getByTestId('task-facts');
    await facts.locator('.status-error').waitFor({ timeout: 20_000 });

    await page.getByLabel('Model for the retry').fill('anthropic/claude-haiku-4-5');
    await page.getByRole('button', { name: 'Retry' }).click();
    await facts.locator('.status-success').waitFor({ timeout: 20_000 });

    const compare = page.getByTestId('compare-runs');
    await compare.waitFor();
    const text = (await compare.textContent()) ?? '';
    expect(text).toContain('anthropic/claude-haiku-4-5');
    expect(text).toContain('error');
    expect(text).toContain('success');
    expect(text).toContain('Launch summary, written on Claude.');
    const runs = (await call(server, server.rootKey, 'tasks.get', { id: state.retriedTaskId })).body.data.runs;
    expect(runs.at(-1)).toMatchObject({ status: 'success', model: 'anthropic/claude-haiku-4-5' });
    expect(runs.at(-2).status).toBe('error');
  }, 60_000);

  it('finds a task by a word of its input, and shows the overview numbers', async () => {
    await go('#/tasks', 'Tasks');
    const filters = page.getByRole('form', { name: 'Filter tasks' });
    await filters.getByLabel('Search title and input').fill('launch');
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForFunction(() => document.querySelectorAll('tr[data-task-id]').length === 1);
    expect(await page.locator('tr[data-task-id]').getAttribute('data-task-id')).toBe(state.retriedTaskId);

    await go('#/overview', 'Overview');
    const cards = page.getByTestId('overview-cards');
    await cards.getByText('Tokens today').waitFor();
    const stats = (await api('tasks.stats')).body.data;
    expect(stats.totals.tokens).toBeGreaterThan(0);
    expect(await cards.textContent()).toContain(stats.totals.tokens.toLocaleString('en-US'));
  });

  it('creates a key (secret shown once, working), then revokes it (refused from then on)', async () => {
    await go('#/keys', 'API keys');
    const form = page.getByRole('form', { name: 'Create a key' });
    await form.getByLabel('Name').fill('ci-bot');
    await form.getByLabel('Scopes').fill('tasks:read, events:read');
    await form.getByLabel('IP allowlist').fill('127.0.0.0/8');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('secret').textContent()) as string;
    expect(secret).toMatch(/^ora_sk_/);
    const who = await api('keys.whoami', {}, secret);
    expect(who.body.data).toMatchObject({ name: 'ci-bot', scopes: ['tasks:read', 'events:read'] });
    await page.getByRole('button', { name: 'I have stored it' }).click();
    expect(await page.getByTestId('secret').count()).toBe(0);

    const row = page.locator('tr[data-key-name="ci-bot"]');
    expect(await row.textContent()).toContain('127.0.0.0/8');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Confirm revoke ci-bot' }).click();
    await row.waitFor({ state: 'detached' });
    expect((await api('keys.whoami', {}, secret)).status).toBe(401);
    await page.getByLabel('Show revoked keys').check();
    await page.locator('tr[data-key-name="ci-bot"] [data-testid="key-state"]').filter({ hasText: 'revoked' }).waitFor();
    await page.getByLabel('Show revoked keys').uncheck();

    // The audit log below shows both changes, newest first, with who made them and the request id.
    const audit = page.getByRole('table', { name: 'Audit log' });
    const revoked = audit.locator('tr[data-audit-action="keys.revoke"]').first();
    await revoked.waitFor();
    const created = (await api('keys.list', { includeRevoked: true })).body.data.items.find(
      (k: { name: string }) => k.name === 'ci-bot',
    );
    expect(await revoked.textContent()).toContain(created.id);
    expect(await revoked.textContent()).toMatch(/req_/);
    const actions = await audit
      .locator('tr[data-audit-action]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-audit-action')));
    expect(actions.indexOf('keys.revoke')).toBeLessThan(actions.indexOf('keys.create'));
  });

  it('creates a webhook, sends a test, and shows deliveries of new events live, also in the task timeline', async () => {
    await go('#/webhooks', 'Webhooks');
    const form = page.getByRole('form', { name: 'Create a webhook' });
    await form.getByLabel('Name').fill('ci-hook');
    await form.getByLabel('URL').fill(receiver.url);
    await form.getByLabel('Events').fill('task.*');
    await form.getByRole('button', { name: 'Create webhook' }).click();
    await page.waitForURL(/#\/webhooks\/[0-9a-f-]{36}$/);
    state.webhookId = page.url().split('/').at(-1) as string;
    expect(await page.getByTestId('secret').textContent()).toMatch(/^whsec_/);
    await page.getByRole('button', { name: 'I have stored it' }).click();

    await page.getByRole('button', { name: 'Send test' }).click();
    await page.locator('[data-testid="delivery"][data-status="success"]').filter({ hasText: 'webhook.test' }).waitFor();
    await receiver.waitFor(1);

    // A new task's events are delivered, and the log shows them without a reload.
    const created = await api('tasks.create', { taskType: 'admin.note', title: 'Needs a yes', requiresApproval: true });
    const taskId = created.body.data.tasks[0].id as string;
    await page
      .locator('[data-testid="delivery"][data-status="success"]')
      .filter({ hasText: 'task.created' })
      .waitFor({ timeout: 20_000 });
    expect(receiver.requests.some((r) => r.body.includes('"task.created"'))).toBe(true);

    // Approve it from its page; its timeline shows the webhook deliveries of its events.
    await go(`#/tasks/${taskId}`, 'Needs a yes');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByTestId('task-facts').locator('.status-success').waitFor({ timeout: 20_000 });
    await page
      .getByTestId('timeline')
      .locator('li[data-kind="webhook"]')
      .filter({ hasText: 'task.completed' })
      .waitFor({
        timeout: 20_000,
      });
  }, 60_000);

  it('resolves a sync conflict from the inbox', async () => {
    const status = await api('sync.status');
    // The sync engine lands in parallel with this suite; without it there is no conflict to resolve.
    expect(status.status, `sync.status answered ${JSON.stringify(status.body)}`).toBe(200);
    const first = (await api('memory.upsert', { type: 'fact', key: 'sync.demo', content: 'server v1' })).body.data
      .memory;
    await api('memory.upsert', { type: 'fact', key: 'sync.demo', content: 'server v2' });
    const push = await api('sync.push', {
      clientId: 'desktop-admin-ci',
      strategy: 'manual',
      memories: [
        {
          syncId: first.id,
          mutationId: 1,
          action: 'upsert',
          baseVersion: first.serverVersion,
          data: {
            agentId: null,
            type: 'fact',
            key: 'sync.demo',
            content: 'client edit',
            summary: null,
            importance: 0.5,
            pinned: false,
            expiresAt: null,
            updatedAt: new Date().toISOString(),
          },
        },
      ],
    });
    expect(push.status).toBe(200);

    await go('#/sync', 'Sync');
    const card = page.locator('[data-testid="conflict"]').filter({ hasText: 'sync.demo' });
    await card.waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'sync-conflict-1280.png'), fullPage: true });
    await card.getByRole('button', { name: 'Keep client' }).click();
    await card.waitFor({ state: 'detached' });
    const memory = (await api('memory.get', { id: first.id })).body.data;
    expect(memory.content).toBe('client edit');
  });

  it("edits an agent, pins a memory and reverts a run's writes, and edits, unpublishes and publishes a post", async () => {
    await go('#/agents/social', 'Agent social');
    const agentForm = page.getByRole('form', { name: 'Edit Social' });
    await agentForm.getByLabel('Fallback models').fill('anthropic/claude-haiku-4-5');
    await agentForm.getByLabel('Max steps').fill('7');
    await agentForm.getByRole('button', { name: 'Save agent' }).click();
    await page.locator('.notice').filter({ hasText: 'Agent Social saved' }).waitFor();
    expect((await api('agents.get', { agent: 'social' })).body.data).toMatchObject({
      maxSteps: 7,
      fallbackModels: ['anthropic/claude-haiku-4-5'],
    });

    const memory = (await api('memory.list', { keyPrefix: 'audience.' })).body.data.items[0];
    await go('#/memory', 'Memory');
    await page.getByRole('button', { name: 'preference/audience.tone' }).click();
    const panel = page.getByRole('region', { name: 'preference/audience.tone' });
    await panel.getByRole('button', { name: 'Pin', exact: true }).click();
    await panel.getByRole('button', { name: 'Unpin' }).waitFor();
    await panel.locator('tbody tr').nth(1).waitFor();
    expect((await api('memory.get', { id: memory.id })).body.data.pinned).toBe(true);
    const revert = page.getByRole('form', { name: "Revert one run's memory writes" });
    await revert.getByLabel('Revert by').selectOption('taskId');
    await revert.getByLabel('Id').fill(state.workflowTaskId as string);
    // The pin came after the run: only a forced revert undoes the run's write over it.
    await revert.getByLabel('Also revert memories changed since by someone else').check();
    await revert.getByRole('button', { name: 'Revert writes' }).click();
    await revert.getByText('"archived"').waitFor();
    expect((await api('memory.get', { id: memory.id })).body.data.archived).toBe(true);

    await go(`#/posts/${state.postId}`, 'Posts');
    const postForm = page.getByRole('form', { name: /^Edit/ });
    await postForm.getByLabel('Title').fill('Admin UI live, edited');
    await postForm.getByRole('button', { name: 'Save post' }).click();
    await postForm.getByRole('button', { name: 'Unpublish' }).click();
    await postForm.getByRole('button', { name: 'Publish', exact: true }).click();
    await postForm.getByRole('button', { name: 'Unpublish' }).waitFor();
    expect((await api('posts.get', { id: state.postId })).body.data).toMatchObject({
      title: 'Admin UI live, edited',
      status: 'published',
    });
  });

  it('screenshots every view at 1280 and 390 px, and axe finds no serious or critical violation in any', async () => {
    const views: Array<[string, string, string | RegExp]> = [
      ['overview', '#/overview', 'Overview'],
      ['tasks', '#/tasks', 'Tasks'],
      ['task-detail', `#/tasks/${state.retriedTaskId}`, 'Summarise the FAIL-ME launch'],
      ['agents', '#/agents/writer', 'Agent writer'],
      ['memory', '#/memory', 'Memory'],
      ['keys', '#/keys', 'API keys'],
      ['webhooks', `#/webhooks/${state.webhookId}`, 'Webhooks'],
      ['sync', '#/sync', 'Sync'],
      ['posts', `#/posts/${state.postId}`, 'Posts'],
      ['settings', '#/settings', 'Settings'],
    ];
    const violations: unknown[] = [];
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      for (const [name, hash, heading] of views) {
        await go(hash, heading);
        if (name === 'memory') {
          const search = page.getByRole('form', { name: 'Search' });
          await search.getByLabel('Query').fill('plain words');
          await search.getByRole('button', { name: 'Search' }).click();
          await page.getByTestId('search-hit').first().waitFor();
        }
        if (name === 'task-detail') await page.getByTestId('compare-runs').waitFor();
        if (name === 'posts') await page.getByRole('form', { name: /^Edit/ }).waitFor();
        if (name === 'webhooks') await page.locator('[data-testid="delivery"]').first().waitFor();
        await page.waitForTimeout(250);
        await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
        violations.push(...(await seriousViolations(`${name} at ${width}px`)));
      }
    }
    expect(violations).toEqual([]);
    // Nothing on the page ran into the CSP, and nothing threw.
    expect(cspViolations).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
