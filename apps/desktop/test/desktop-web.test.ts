import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OraClient } from '@ora/client';
import {
  chromiumLaunchOptions,
  type FakeProvider,
  type FakeRequest,
  type FakeStep,
  startFakeOpenAI,
} from '@ora/testkit';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../api/test/harness';
import { DesktopCore, MemoryCredentials } from '../src/core/desktop-core';
import { startWebMode, type WebModeServer } from '../src/web/server';

// One ORA (embedded: PGlite, its worker running, a fake OpenAI) and one browser for the file.
const ARTIFACTS = path.resolve(import.meta.dirname, '../../../test-artifacts/desktop');
const USAGE = { input: 1000, output: 200 };
const BODY = `Tides rise and fall twice a day because the moon pulls on the oceans.

## Why tides matter

Sailors, surfers and harbour pilots plan around them.`;

const postIdIn = (req: FakeRequest) => /has id ([0-9a-f-]{36})/.exec(req.allText)?.[1];

/** The team, scripted as the fake provider answers each agent; the steps are slow enough to watch. */
function team(req: FakeRequest): FakeStep | undefined {
  const step = req.toolResultCount;
  if (req.system.includes('You are ORA')) {
    if (step === 0) return { toolCalls: [{ name: 'workflows_list', arguments: {} }], usage: USAGE };
    if (step === 1) {
      return {
        toolCalls: [
          {
            name: 'delegate',
            arguments: {
              reason: 'A post is what the publish_post workflow makes',
              workflow: { name: 'publish_post', input: { topic: 'tides' } },
            },
          },
        ],
        usage: USAGE,
      };
    }
    return { text: 'I will run publish_post on "tides": draft, SEO and a cover, then publish.', usage: USAGE };
  }
  if (req.system.includes('You are Writer')) {
    if (step === 0) {
      return {
        toolCalls: [{ name: 'posts_write', arguments: { title: 'Why the tides turn', body: BODY, tags: ['sea'] } }],
        usage: USAGE,
        delayMs: 800,
      };
    }
    return { text: 'Draft saved.', usage: USAGE };
  }
  if (req.system.includes('You are SEO')) {
    if (step === 0) {
      return {
        toolCalls: [{ name: 'seo_analyze', arguments: { postId: postIdIn(req), keyword: 'tides' } }],
        usage: USAGE,
      };
    }
    return { text: 'SEO checked.', usage: USAGE, delayMs: 300 };
  }
  if (req.system.includes('You are Imager')) {
    if (step === 0) {
      return {
        toolCalls: [
          {
            name: 'images_generate',
            arguments: { prompt: 'waves at low tide', postId: postIdIn(req), alt: 'Low tide' },
          },
        ],
        usage: USAGE,
        delayMs: 300,
      };
    }
    return { text: 'Cover set.', usage: USAGE };
  }
  return undefined;
}

describe('the desktop UI in web mode', () => {
  let server: TestServer;
  let openai: FakeProvider;
  let core: DesktopCore;
  let web: WebModeServer;
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    openai = await startFakeOpenAI();
    openai.handle(team);
    server = await startTestServer('embedded', {
      env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL, ORA_DEFAULT_MODEL: 'openai/gpt-4o-mini' },
      tasks: { worker: { concurrency: 4, heartbeatMs: 200, backoffBaseMs: 100 }, maintenanceIntervalMs: 200 },
    });
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.app.server.address() as AddressInfo;
    dir = mkdtempSync(path.join(os.tmpdir(), 'ora-desktop-web-'));
    core = new DesktopCore({
      dbPath: path.join(dir, 'desktop.sqlite'),
      credentials: new MemoryCredentials({ serverUrl: `http://127.0.0.1:${port}`, apiKey: server.rootKey }),
      // Conflicts wait in the inbox for the operator.
      sync: { debounceMs: 50, intervalMs: 2000, strategy: 'manual' },
    });
    core.start();
    web = await startWebMode({ core });
    browser = await chromium.launch(chromiumLaunchOptions);
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await core?.close();
    await server?.close();
    await openai?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function openPage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(web.url);
    await page.waitForSelector('body[data-ready="true"]');
    expect(problems).toEqual([]);
    return page;
  }

  it('the operator asks, approves the plan, watches the tasks run live and sees the published post', async () => {
    const page = await openPage();
    await expect.poll(() => page.textContent('[data-testid="sync-state"]'), { timeout: 15_000 }).toBe('idle');

    await page.fill('#composer-input', 'Write a post about tides');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="message-user"]');

    // The planner's plan, with the steps it would create, waits for approval: nothing is created yet.
    const plan = page.locator('[data-testid="plan"]');
    await plan.waitFor({ timeout: 30_000 });
    await expect.poll(() => plan.locator('li').count()).toBe(4);
    expect(await plan.textContent()).toMatch(/publish_post/);
    expect(await page.locator('[data-testid="task"]').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, '1-plan-proposed.png') });

    await page.click('[data-testid="approve-plan"]');
    await expect.poll(() => page.textContent('[data-testid="plan-status"]')).toBe('approved');

    // The tasks appear and move live (events from the server's stream, through the core).
    await expect.poll(() => page.locator('[data-testid="task"]').count(), { timeout: 20_000 }).toBe(4);
    const seen = new Set<string>();
    const started = Date.now();
    let shotRunning = false;
    for (;;) {
      const statuses = await page
        .locator('[data-testid="task"]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-status') ?? ''));
      for (const s of statuses) seen.add(s);
      if (!shotRunning && statuses.includes('running')) {
        await page.screenshot({ path: path.join(ARTIFACTS, '2-tasks-running.png') });
        shotRunning = true;
      }
      if (statuses.length === 4 && statuses.every((s) => s === 'success')) break;
      if (statuses.some((s) => s === 'error' || s === 'cancelled')) throw new Error(`a task failed: ${statuses}`);
      if (Date.now() - started > 45_000) throw new Error(`tasks did not finish: ${statuses}`);
      await page.waitForTimeout(100);
    }
    // Progress was visible on the way, not only the end state.
    expect([...seen].some((s) => s !== 'success')).toBe(true);

    // The result lands in the conversation with the published post's link, and a toast said so.
    const result = page.locator('[data-kind="result"]');
    await result.waitFor({ timeout: 20_000 });
    expect(await result.textContent()).toMatch(/Done\./);
    const link = await page.locator('[data-testid="result-link"]').first().getAttribute('href');
    expect(link).toMatch(/\/posts\/why-the-tides-turn/);
    expect(await page.locator('[data-testid="toast"]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, '3-result.png') });

    // The conversation is stored locally and synced: the server has the thread, plan and result.
    await core.engine.syncNow();
    const thread = core.store.listConversations()[0];
    const remote = await server.app.inject({
      method: 'POST',
      url: '/api/ora/conversations.get',
      headers: { authorization: `Bearer ${server.rootKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ id: thread?.id, messagesLimit: 100 }),
    });
    expect(remote.statusCode).toBe(200);
    expect(JSON.stringify(remote.json())).toContain('Write a post about tides');

    // A reload shows the same thread from the local store.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.locator('[data-kind="result"]').count()).toBe(1);
    await page.close();
  });

  it('shows a conflict side by side in the inbox and settles it with “keep mine”', async () => {
    const { port } = server.app.server.address() as AddressInfo;
    const other = new OraClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: server.rootKey });
    const mine = core.store.upsertMemory({ type: 'preference', key: 'post.length', content: 'short posts' });
    await core.engine.syncNow();
    const base = core.store.getMemory(mine.id)?.serverVersion ?? null;
    // Another client changes it on the server; this desktop changes it too, from the same base.
    await other.call('sync.push', {
      clientId: 'another-desktop-0001',
      memories: [
        {
          syncId: mine.id,
          mutationId: 1,
          action: 'upsert',
          baseVersion: base,
          data: {
            agentId: null,
            type: 'preference',
            key: 'post.length',
            content: 'long reads',
            summary: null,
            importance: 0.5,
            pinned: false,
            expiresAt: null,
            updatedAt: new Date().toISOString(),
          },
        },
      ],
    });
    core.store.upsertMemory({ type: 'preference', key: 'post.length', content: 'medium, about 900 words' });
    await core.engine.syncNow();
    expect(core.store.listConflicts('pending')).toHaveLength(1);

    const page = await openPage();
    const conflict = page.locator('[data-testid="conflict"]');
    await conflict.waitFor();
    expect(await conflict.locator('figure').nth(0).textContent()).toContain('medium, about 900 words');
    expect(await conflict.locator('figure').nth(1).textContent()).toContain('long reads');
    await page.screenshot({ path: path.join(ARTIFACTS, '4-conflict-inbox.png') });
    await page.getByRole('button', { name: 'Keep mine' }).click();
    await expect.poll(() => conflict.count()).toBe(0);
    await expect
      .poll(async () => {
        await core.engine.syncNow();
        return core.store.getMemory(mine.id)?.content;
      })
      .toBe('medium, about 900 words');
    const pulled = await other.call('sync.pull', { cursor: '0', limit: 1000 });
    expect(pulled.memories.find((m) => m.id === mine.id)?.content).toBe('medium, about 900 words');
    await page.close();
  });
});
