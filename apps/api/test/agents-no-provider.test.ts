import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableModes, call, startTestServer, type TestServer } from './harness';

const modes = await availableModes();

describe.each(modes)('agents with no LLM provider configured (%s)', (mode) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(mode, {
      tasks: { worker: { concurrency: 2, heartbeatMs: 200, backoffBaseMs: 100 }, maintenanceIntervalMs: false },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('fails an agent task at once with an error naming the settings to set, and records the run', async () => {
    const res = await call(server, server.rootKey, 'agents.run', {
      agent: 'writer',
      input: { topic: 'x' },
      waitMs: 10_000,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: 'error', done: true, output: null });
    expect(res.body.data.errorMessage).toMatch(
      /No LLM provider is configured: set OPENAI_API_KEY .*OPENAI_BASE_URL .*ANTHROPIC_API_KEY/,
    );
    expect(res.body.data.run).toMatchObject({ status: 'error', stopReason: 'no_provider', totalTokens: 0, steps: 0 });
    const task = (await call(server, server.rootKey, 'tasks.get', { id: res.body.data.taskId })).body.data;
    expect(task.attemptCount).toBe(1);
    const agents = (await call(server, server.rootKey, 'agents.get', { agent: 'imager' })).body.data;
    expect(agents.availableTools.find((t: { name: string }) => t.name === 'images.generate').available).toBe(false);
  });

  it('still runs system steps: publish_post publishes the post it is given', async () => {
    const post = await call(server, server.rootKey, 'posts.create', { title: `Offline ${mode}`, body: 'Hello.' });
    const created = await call(server, server.rootKey, 'tasks.create', {
      taskType: 'publish_post',
      title: 'Publish it',
      input: { postId: post.body.data.id },
    });
    const id = created.body.data.tasks[0].id;
    for (let i = 0; i < 200; i++) {
      const task = (await call(server, server.rootKey, 'tasks.get', { id })).body.data;
      if (task.status === 'success') {
        expect(task.output).toMatchObject({ postId: post.body.data.id, slug: post.body.data.slug });
        expect(task.relatedPostId).toBe(post.body.data.id);
        break;
      }
      expect(['queued', 'running', 'pending']).toContain(task.status);
      await new Promise((r) => setTimeout(r, 50));
    }
    const published = await call(server, server.rootKey, 'posts.get', { id: post.body.data.id });
    expect(published.body.data.status).toBe('published');
  });
});
