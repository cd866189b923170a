import { type FakeProvider, type FakeRequest, type FakeStep, startFakeAnthropic, startFakeOpenAI } from '@ora/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();

const USAGE = { input: 1000, output: 200 };
// gpt-4o-mini: $0.15 in, $0.60 out per million tokens
const MINI_CALL_COST = (1000 * 0.15 + 200 * 0.6) / 1e6;

const BODY = `AI safety is the work of making AI systems do what people intend. This post explains ai safety in plain words.

## Why ai safety matters

Systems that act in the world can cause harm when their goals drift. We look at [alignment](https://example.com/alignment) and at testing.

## What teams can do

Test models, red-team them, and ship with guard rails. Read [our guide](/posts/guide) for more.`;

const postIdIn = (req: FakeRequest) => /has id ([0-9a-f-]{36})/.exec(req.allText)?.[1];
const topicIn = (req: FakeRequest) => /Write a draft about ([^\n"]+)/.exec(req.allText)?.[1]?.trim();

/**
 * The team, scripted: what the fake provider answers each agent at each step of its tool loop.
 * Agents are told apart by their system prompt; SEO and Imager answer slowly so their overlap shows.
 */
function team(req: FakeRequest): FakeStep | undefined {
  const step = req.toolResultCount;
  const post = postIdIn(req);
  if (req.system.includes('You are Writer')) {
    if (step === 0) {
      return {
        toolCalls: [
          {
            name: 'posts_write',
            arguments: {
              title: `A post about ${topicIn(req) ?? 'something'}`,
              body: BODY,
              tags: ['ai'],
              seo: { keywords: ['ai safety'] },
            },
          },
        ],
        usage: USAGE,
      };
    }
    return { text: 'Draft saved.', usage: USAGE };
  }
  if (req.system.includes('You are SEO')) {
    if (step === 0) {
      return {
        toolCalls: [{ name: 'seo_analyze', arguments: { postId: post, keyword: 'ai safety' } }],
        usage: USAGE,
        delayMs: 400,
      };
    }
    if (step === 1) {
      return {
        toolCalls: [
          {
            name: 'posts_write',
            arguments: {
              id: post,
              seo: {
                metaTitle: 'AI safety, explained plainly for busy readers',
                metaDescription:
                  'What AI safety means, why it matters for teams shipping AI, and three practical steps to make your systems safer today.',
              },
            },
          },
        ],
        usage: USAGE,
      };
    }
    return { text: 'Meta title and description improved.', usage: USAGE };
  }
  if (req.system.includes('You are Imager')) {
    if (step === 0) {
      return {
        toolCalls: [
          {
            name: 'images_generate',
            arguments: { prompt: 'a lighthouse at dusk', postId: post, alt: 'A lighthouse at dusk' },
          },
        ],
        usage: USAGE,
        delayMs: 400,
      };
    }
    return { text: 'Cover image set.', usage: USAGE };
  }
  if (req.system.includes('You are Social')) {
    if (step === 0) {
      return {
        toolCalls: [
          {
            name: 'social_draft',
            arguments: { network: 'x', text: 'New on the blog: AI safety, plainly.', link: 'https://example.com/p' },
          },
        ],
        usage: USAGE,
      };
    }
    return { text: 'One draft for X.', usage: USAGE };
  }
  if (req.system.includes('You are ORA')) {
    if (step === 0) return { toolCalls: [{ name: 'workflows_list', arguments: {} }], usage: USAGE };
    if (step === 1) {
      return {
        toolCalls: [
          {
            name: 'delegate',
            arguments: {
              reason: 'A post is what the publish_post workflow makes',
              workflow: { name: 'publish_post', input: { topic: 'ORA plans' } },
            },
          },
        ],
        usage: USAGE,
      };
    }
    return { text: 'Plan: run publish_post for "ORA plans".', usage: USAGE };
  }
  return undefined;
}

async function waitForTask(server: TestServer, id: string, statuses: string[], timeoutMs = 45_000) {
  const started = Date.now();
  for (;;) {
    const res = await call(server, server.rootKey, 'tasks.get', { id });
    if (statuses.includes(res.body.data.status)) return res.body.data;
    if (Date.now() - started > timeoutMs) throw new Error(`task ${id} is ${res.body.data.status}, not ${statuses}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(modes)('the agent runtime (%s)', (mode) => {
  let server: TestServer;
  let openai: FakeProvider;
  let anthropic: FakeProvider;

  beforeAll(async () => {
    [openai, anthropic] = await Promise.all([startFakeOpenAI(), startFakeAnthropic()]);
    server = await startTestServer(mode, {
      env: {
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.baseURL,
        ANTHROPIC_API_KEY: 'sk-ant-test',
        ANTHROPIC_BASE_URL: anthropic.baseURL,
        ORA_DEFAULT_MODEL: 'openai/gpt-4o-mini',
        ORA_PROVIDER_MAX_RETRY_AFTER_MS: '2000',
      },
      tasks: { worker: { concurrency: 4, heartbeatMs: 200, backoffBaseMs: 100 }, maintenanceIntervalMs: 200 },
    });
  });
  afterAll(async () => {
    await server?.close();
    await Promise.all([openai?.close(), anthropic?.close()]);
  });
  afterEach(async () => {
    openai.reset();
    anthropic.reset();
    for (const agent of ['writer', 'seo', 'imager']) {
      await call(server, server.rootKey, 'agents.update', {
        agent,
        model: null,
        fallbackModels: [],
        config: { stream: false },
      });
    }
  });

  async function publishWorkflow(topic: string) {
    const res = await call(server, server.rootKey, 'workflows.run', {
      name: 'publish_post',
      input: { topic, keywords: 'ai safety' },
    });
    expect(res.status).toBe(200);
    const byType = Object.fromEntries(res.body.data.tasks.map((t: { taskType: string }) => [t.taskType, t]));
    await waitForTask(server, byType.publish_post.id, ['success', 'error', 'cancelled']);
    const get = async (type: string) =>
      (await call(server, server.rootKey, 'tasks.get', { id: byType[type].id })).body.data;
    return {
      write: await get('write_post'),
      seo: await get('optimize_seo'),
      image: await get('generate_image'),
      publish: await get('publish_post'),
    };
  }

  it('runs publish_post end to end on OpenAI: the Writer drafts through tool calls, SEO and Imager in parallel, publish sets it live', async () => {
    openai.handle(team);
    const { write, seo, image, publish } = await publishWorkflow(`${mode} safety`);
    expect([write.status, seo.status, image.status, publish.status]).toEqual([
      'success',
      'success',
      'success',
      'success',
    ]);

    const postId = write.output.postId as string;
    expect(publish.output).toMatchObject({ postId, slug: expect.any(String) });
    const post = (await call(server, server.rootKey, 'posts.get', { id: postId })).body.data;
    expect(post).toMatchObject({
      status: 'published',
      title: `A post about ${mode} safety`,
      author: { type: 'agent' },
      seo: { metaTitle: 'AI safety, explained plainly for busy readers' },
      cover: { mediaId: expect.any(String), alt: 'A lighthouse at dusk' },
    });
    expect(openai.otherRequests.filter((r) => r.path === '/v1/images/generations')).toHaveLength(1);

    // The Writer's run, as tasks.get shows it: transcript, tool calls with arguments and results, tokens, cost.
    const [run] = write.runs;
    expect(run).toMatchObject({
      status: 'success',
      provider: 'openai',
      model: 'openai/gpt-4o-mini',
      stopReason: 'completed',
      steps: 2,
      totalTokens: 2400,
    });
    expect(run.cost).toBeCloseTo(2 * MINI_CALL_COST, 6);
    expect(run.transcript.map((e: { role: string }) => e.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);
    expect(run.toolCalls[0]).toMatchObject({
      id: `${write.id}:0:0`,
      tool: 'posts.write',
      arguments: { title: `A post about ${mode} safety` },
      result: { id: postId, status: 'draft' },
      replayed: false,
    });
    expect(write).toMatchObject({ tokensUsed: 2400, relatedRunId: run.id, relatedPostId: postId });
    expect(write.estimatedCost).toBeCloseTo(2 * MINI_CALL_COST, 6);
    expect(seo.runs[0].toolCalls.map((c: { tool: string }) => c.tool)).toEqual(['seo.analyze', 'posts.write']);
    expect(seo.runs[0].toolCalls[0].result.checks.length).toBeGreaterThan(5);
    // The image run is charged the image too.
    expect(image.runs[0].attempts.map((a: { model: string }) => a.model)).toContain('openai/gpt-image-1');

    // SEO and Imager ran at the same time.
    const [s, i] = [seo.runs[0], image.runs[0]];
    expect(Date.parse(s.startedAt)).toBeLessThan(Date.parse(i.completedAt));
    expect(Date.parse(i.startedAt)).toBeLessThan(Date.parse(s.completedAt));

    // Only the agent's own tools were offered.
    const writerRequest = openai.requests.find((r) => r.system.includes('You are Writer')) as FakeRequest;
    expect(writerRequest.tools.sort()).toEqual(
      ['posts_read', 'posts_write', 'settings_read', 'memory_search', 'memory_write'].sort(),
    );
  });

  it('runs the same workflow with Anthropic as the provider', async () => {
    anthropic.handle(team);
    openai.handle(team); // the images API stays OpenAI's
    for (const agent of ['writer', 'seo', 'imager']) {
      // The Writer streams its answers; the others take them whole.
      const res = await call(server, server.rootKey, 'agents.update', {
        agent,
        model: 'anthropic/claude-sonnet-4-6',
        config: { stream: agent === 'writer' },
      });
      expect(res.body.data.model).toBe('anthropic/claude-sonnet-4-6');
    }
    const { write, seo, image, publish } = await publishWorkflow(`${mode} anthropic`);
    expect(publish.status).toBe('success');
    for (const task of [write, seo, image]) {
      expect(task.runs[0]).toMatchObject({
        status: 'success',
        provider: 'anthropic',
        model: 'anthropic/claude-sonnet-4-6',
      });
    }
    expect(openai.requests).toHaveLength(0);
    const streamed = anthropic.requests.filter((r) => r.stream).map((r) => r.system.includes('You are Writer'));
    expect(streamed).toEqual([true, true]);
    expect(anthropic.requests.length).toBeGreaterThanOrEqual(7);
    // claude-sonnet-4-6 is priced as the claude-sonnet-4 family: $3 in, $15 out per million.
    expect(write.runs[0].cost).toBeCloseTo((2 * (1000 * 3 + 200 * 15)) / 1e6, 6);
    const post = (await call(server, server.rootKey, 'posts.get', { id: write.output.postId })).body.data;
    expect(post.status).toBe('published');
  });

  it('completes on the fallback model when the primary provider fails, and records both attempts', async () => {
    openai.handle((req) => (req.model === 'gpt-4o' ? { error: 'server', status: 503 } : undefined));
    anthropic.handle(team);
    await call(server, server.rootKey, 'agents.update', {
      agent: 'writer',
      model: 'openai/gpt-4o',
      fallbackModels: ['anthropic/claude-haiku-4-5'],
    });
    const res = await call(server, server.rootKey, 'agents.run', {
      agent: 'writer',
      title: 'Write a draft about fallbacks',
      input: { topic: 'fallbacks' },
      waitMs: 15_000,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ done: true, status: 'success' });
    const run = res.body.data.run;
    expect(run).toMatchObject({ provider: 'anthropic', model: 'anthropic/claude-haiku-4-5' });
    expect(run.attempts.slice(0, 2)).toMatchObject([
      {
        step: 0,
        model: 'openai/gpt-4o',
        provider: 'openai',
        status: 'error',
        errorKind: 'server',
        httpStatus: 503,
        fallback: false,
      },
      { step: 0, model: 'anthropic/claude-haiku-4-5', provider: 'anthropic', status: 'ok', fallback: true },
    ]);
  });

  it('stops a run within 2 s when its task is cancelled during a long model call', async () => {
    openai.handle(() => ({ hang: true }));
    const res = await call(server, server.rootKey, 'agents.run', {
      agent: 'writer',
      input: { topic: 'slow' },
      waitMs: 0,
    });
    const taskId = res.body.data.taskId;
    await expect.poll(() => openai.inFlight, { timeout: 10_000 }).toBe(1);
    const asked = Date.now();
    await call(server, server.rootKey, 'tasks.cancel', { id: taskId, reason: 'changed my mind' });
    const task = await waitForTask(server, taskId, ['cancelled', 'error', 'success'], 5_000);
    expect(Date.now() - asked).toBeLessThan(2_000);
    expect(task.status).toBe('cancelled');
    await expect.poll(() => openai.inFlight, { timeout: 2_000 }).toBe(0);
    expect(task.runs[0]).toMatchObject({ status: 'cancelled', stopReason: 'cancelled' });
  });

  it('does not repeat a completed tool side effect when the task is retried', async () => {
    let calls = 0;
    const title = `Only once ${mode}`;
    openai.handle(() => {
      calls += 1;
      if (calls === 1 || calls === 3)
        return { toolCalls: [{ name: 'posts_write', arguments: { title, body: 'x' } }], usage: USAGE };
      if (calls === 2) return { error: 'server', status: 500 };
      return { text: 'Saved.', usage: USAGE };
    });
    const res = await call(server, server.rootKey, 'agents.run', {
      agent: 'writer',
      input: { topic: 'once' },
      waitMs: 15_000,
    });
    expect(res.body.data).toMatchObject({ status: 'success', done: true });
    const task = (await call(server, server.rootKey, 'tasks.get', { id: res.body.data.taskId })).body.data;
    expect(task.attemptCount).toBe(2);
    expect(task.runs.map((r: { attempt: number; status: string }) => [r.attempt, r.status])).toEqual([
      [1, 'error'],
      [2, 'success'],
    ]);
    expect(task.runs[0].toolCalls[0]).toMatchObject({ tool: 'posts.write', replayed: false });
    expect(task.runs[1].toolCalls[0]).toMatchObject({ id: task.runs[0].toolCalls[0].id, replayed: true });
    expect(task.runs[1].toolCalls[0].result.id).toBe(task.runs[0].toolCalls[0].result.id);
    const posts = (await call(server, server.rootKey, 'posts.list', { limit: 200 })).body.data.items;
    expect(posts.filter((p: { title: string }) => p.title === title)).toHaveLength(1);
  });

  it('fails at once on a spend-limit answer, and a retry on another model is comparable run by run', async () => {
    openai.handle(() => ({ error: 'quota' }));
    anthropic.handle(team);
    const first = await call(server, server.rootKey, 'agents.run', {
      agent: 'writer',
      title: 'Write a draft about budgets',
      input: {},
      waitMs: 15_000,
    });
    expect(first.body.data).toMatchObject({ status: 'error', done: true });
    expect(first.body.data.errorMessage).toMatch(/spend limit/);
    expect(openai.requests).toHaveLength(1);
    const taskId = first.body.data.taskId;
    const retried = await call(server, server.rootKey, 'tasks.retry', {
      id: taskId,
      modelOverride: 'anthropic/claude-sonnet-4-6',
    });
    expect(retried.status).toBe(200);
    const task = await waitForTask(server, taskId, ['success', 'error']);
    expect(task.status).toBe('success');
    const [a, b] = task.runs;
    expect(a).toMatchObject({
      status: 'error',
      model: 'openai/gpt-4o-mini',
      requestedModel: null,
      stopReason: 'error',
    });
    expect(a.attempts).toMatchObject([{ status: 'error', errorKind: 'quota' }]);
    expect(b).toMatchObject({
      status: 'success',
      provider: 'anthropic',
      model: 'anthropic/claude-sonnet-4-6',
      requestedModel: 'anthropic/claude-sonnet-4-6',
      totalTokens: 2400,
    });
    expect(b.transcript.filter((e: { role: string }) => e.role === 'assistant')).toHaveLength(2);
  });

  it('stops a run over its token budget with a clear reason, without making the tool calls of that step', async () => {
    openai.handle((req) =>
      req.toolResultCount === 0
        ? { toolCalls: [{ name: 'posts_read', arguments: {} }], usage: USAGE }
        : { toolCalls: [{ name: 'posts_write', arguments: { title: 'never written' } }], usage: USAGE },
    );
    const res = await call(server, server.rootKey, 'agents.run', {
      agent: 'writer',
      input: { topic: 'budget' },
      tokenBudget: 1500,
      waitMs: 15_000,
    });
    expect(res.body.data).toMatchObject({ status: 'error', done: true, tokensUsed: 2400 });
    expect(res.body.data.errorMessage).toMatch(
      /Token budget exhausted: the run used 2400 tokens of 1500 allowed by the task's tokenBudget/,
    );
    expect(res.body.data.run).toMatchObject({ status: 'error', stopReason: 'token_budget', steps: 2 });
    expect(res.body.data.run.toolCalls.map((c: { tool: string }) => c.tool)).toEqual(['posts.read']);
    // A budget stop is final: no second attempt.
    const task = (await call(server, server.rootKey, 'tasks.get', { id: res.body.data.taskId })).body.data;
    expect(task.attemptCount).toBe(1);
    // An OpenAI-compatible base URL (the fake) is sent max_tokens; api.openai.com gets max_completion_tokens.
    expect(openai.requests[1]?.body.max_tokens).toBe(300);
  });

  it('stops at the step limit and at the cost budget, each with its reason', async () => {
    openai.handle(() => ({ toolCalls: [{ name: 'analytics_query', arguments: {} }], usage: USAGE }));
    await call(server, server.rootKey, 'agents.update', { agent: 'analyst', maxSteps: 2 });
    const steps = await call(server, server.rootKey, 'agents.run', { agent: 'analyst', input: {}, waitMs: 15_000 });
    expect(steps.body.data).toMatchObject({ status: 'error', run: { stopReason: 'max_steps', steps: 2 } });
    expect(steps.body.data.errorMessage).toMatch(/Stopped after 2 steps without a final answer/);
    expect(steps.body.data.run.toolCalls).toHaveLength(2);

    const cost = await call(server, server.rootKey, 'agents.run', {
      agent: 'analyst',
      input: {},
      costBudget: 0.0001,
      waitMs: 15_000,
    });
    expect(cost.body.data).toMatchObject({
      status: 'error',
      run: { stopReason: 'cost_budget', steps: 1, toolCalls: [] },
    });
    expect(cost.body.data.errorMessage).toMatch(/Cost budget exhausted: the run spent \$0\.000270 of \$0\.0001/);
    await call(server, server.rootKey, 'agents.update', { agent: 'analyst', maxSteps: 10 });
  });

  it('treats model output as untrusted: tools outside the agent list are refused, bad arguments are reported back', async () => {
    openai.handle((req) => {
      if (req.toolResultCount === 0) {
        return {
          toolCalls: [
            {
              name: 'delegate',
              arguments: {
                reason: 'the post told me to',
                steps: [{ ref: 'a', agent: 'analyst', taskType: 'x', title: 'x' }],
              },
            },
            { name: 'posts_write', arguments: { title: 5 } },
            { name: 'posts_write', arguments: '{not json' },
          ],
          usage: USAGE,
        };
      }
      return { text: 'Done.', usage: USAGE };
    });
    const before = (await call(server, server.rootKey, 'tasks.list', { agent: 'analyst' })).body.data.items.length;
    const res = await call(server, server.rootKey, 'agents.run', { agent: 'writer', input: {}, waitMs: 15_000 });
    expect(res.body.data.status).toBe('success');
    const errors = res.body.data.run.toolCalls.map((c: { error: string }) => c.error);
    expect(errors[0]).toMatch(/No tool "delegate" is available to this agent/);
    expect(errors[1]).toMatch(/Invalid arguments: title/);
    expect(errors[2]).toMatch(/not valid JSON/);
    expect((await call(server, server.rootKey, 'tasks.list', { agent: 'analyst' })).body.data.items).toHaveLength(
      before,
    );
    // The errors went back to the model as tool results.
    expect(openai.requests[1]?.lastToolResult).toMatchObject({ error: expect.stringMatching(/not valid JSON/) });
  });

  it('runs an agent directly with agents.run: the result, the run and its spend in the answer', async () => {
    openai.handle(team);
    const res = await call(server, server.rootKey, 'agents.run', {
      agent: 'social',
      input: { postUrl: 'https://example.com/p' },
      waitMs: 15_000,
    });
    expect(res.body.data).toMatchObject({
      status: 'success',
      done: true,
      tokensUsed: 2400,
      output: { text: 'One draft for X.', drafts: [{ network: 'x', limit: 280 }] },
      run: { status: 'success', steps: 2, totalTokens: 2400 },
    });
    expect(res.body.data.estimatedCost).toBeCloseTo(2 * MINI_CALL_COST, 6);
    const quick = await call(server, server.rootKey, 'agents.run', { agent: 'social', input: {}, waitMs: 0 });
    expect(quick.body.data).toMatchObject({ done: false, taskId: expect.any(String) });
    await waitForTask(server, quick.body.data.taskId, ['success']);
  });

  it('queues a run with POST /api/agent and answers with the task and its estimated start', async () => {
    const post = (key: string | null, payload: unknown) =>
      server.app.inject({
        method: 'POST',
        url: '/api/agent',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        payload: JSON.stringify(payload),
      });
    const before = Date.now();
    const ok = await post(server.rootKey, {
      action: 'execute',
      agentSlug: 'social',
      input: { note: 'promote the latest post' },
      options: { priority: 'high', timeout: 60_000 },
    });
    expect(ok.statusCode).toBe(202);
    const body = ok.json();
    expect(body).toMatchObject({ taskId: expect.any(String), status: 'queued' });
    expect(Date.parse(body.estimatedStart)).toBeGreaterThanOrEqual(before - 1000);
    const task = await waitForTask(server, body.taskId, ['success', 'error']);
    expect(task).toMatchObject({ agentSlug: 'social', taskType: 'agent.run', priority: 10, source: 'api' });
    expect(task.deadlineAt).not.toBeNull();

    expect((await post(null, { action: 'execute', agentSlug: 'social' })).statusCode).toBe(401);
    const readOnly = await call(server, server.rootKey, 'keys.create', {
      name: `agents-read-${mode}`,
      scopes: ['agents:read'],
    });
    const forbidden = await post(readOnly.body.data.secret, { action: 'execute', agentSlug: 'social' });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.message).toMatch(/agents:write/);
    expect((await post(server.rootKey, { action: 'execute', agentSlug: 'nobody' })).statusCode).toBe(404);
    expect((await post(server.rootKey, { action: 'explode', agentSlug: 'social' })).statusCode).toBe(400);
  });

  it('lists, shows and edits the five sub-agents and the planner', async () => {
    const list = await call(server, server.rootKey, 'agents.list', {});
    expect(list.body.data.items.map((a: { slug: string }) => a.slug).sort()).toEqual(
      ['analyst', 'imager', 'ora', 'seo', 'social', 'writer'].sort(),
    );
    const writer = await call(server, server.rootKey, 'agents.get', { agent: 'writer' });
    expect(writer.body.data.availableTools.map((t: { name: string }) => t.name)).toEqual(writer.body.data.tools);
    expect(writer.body.data.availableTools.find((t: { name: string }) => t.name === 'posts.write')).toMatchObject({
      scopes: ['posts:write'],
      sideEffect: true,
      available: true,
    });
    expect(writer.body.data.recentRuns.length).toBeGreaterThan(0);
    const bad = await call(server, server.rootKey, 'agents.update', {
      agent: 'writer',
      tools: ['posts.write', 'shell.exec'],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/shell\.exec/);
    const edited = await call(server, server.rootKey, 'agents.update', {
      agent: 'analyst',
      maxSteps: 4,
      maxCostUsd: 0.5,
      config: { temperature: 0.2 },
    });
    expect(edited.body.data).toMatchObject({ maxSteps: 4, maxCostUsd: 0.5, config: { temperature: 0.2 } });
  });

  it('turns a request into a plan with ora.delegate, and creates its tasks only when asked to execute', async () => {
    openai.handle(team);
    const planned = await call(server, server.rootKey, 'ora.delegate', { request: 'Write a post about ORA plans' });
    expect(planned.status).toBe(200);
    expect(planned.body.data).toMatchObject({
      status: 'success',
      done: true,
      plan: { kind: 'workflow', workflow: 'publish_post', input: { topic: 'ORA plans' } },
      created: null,
      summary: expect.stringContaining('publish_post'),
    });
    const planner = planned.body.data.run;
    expect(planner.toolCalls.map((c: { tool: string }) => c.tool)).toEqual(['workflows.list', 'delegate']);
    const chainTasks = (await call(server, server.rootKey, 'tasks.list', { chainId: planned.body.data.taskId })).body
      .data.items;
    expect(chainTasks).toHaveLength(1);

    const executed = await call(server, server.rootKey, 'ora.delegate', {
      request: 'Write a post about ORA plans',
      execute: true,
    });
    expect(executed.body.data.created.taskIds).toHaveLength(4);
    const created = (await call(server, server.rootKey, 'tasks.list', { chainId: executed.body.data.created.chainId }))
      .body.data.items;
    expect(created.map((t: { taskType: string }) => t.taskType).sort()).toEqual(
      ['generate_image', 'optimize_seo', 'ora.plan', 'publish_post', 'write_post'].sort(),
    );
    const publish = created.find((t: { taskType: string }) => t.taskType === 'publish_post');
    expect((await waitForTask(server, publish.id, ['success', 'error'])).status).toBe('success');
  });
});
