import type { Task } from '@ora/contracts';
import { describe, expect, it } from 'vitest';
import { ProviderRegistry } from '../providers/registry';
import { allowedTools, candidateModels, postOf } from './runtime';
import { builtinTools } from './tools/builtin-tools';
import { parametersOf, wireName } from './tools/tool';

const services = (withMemory: boolean) => ({
  providers: new ProviderRegistry({ anthropicApiKey: 'sk-ant' }),
  media: null,
  memory: withMemory ? ({} as never) : null,
});

describe('what a run may use', () => {
  it('tries the task override first, then the agent model or the default, then its fallbacks, once each', () => {
    const agent = { model: 'openai/gpt-4o', fallback_models: ['anthropic/claude-haiku-4-5', 'openai/gpt-4o'] };
    expect(candidateModels({ modelOverride: null }, agent, 'openai/gpt-4o-mini')).toEqual([
      'openai/gpt-4o',
      'anthropic/claude-haiku-4-5',
    ]);
    expect(candidateModels({ modelOverride: 'openai/o3' }, agent, null)[0]).toBe('openai/o3');
    expect(
      candidateModels({ modelOverride: null }, { model: null, fallback_models: [] }, 'openai/gpt-4o-mini'),
    ).toEqual(['openai/gpt-4o-mini']);
    expect(candidateModels({ modelOverride: null }, { model: null, fallback_models: [] }, null)).toEqual([]);
  });

  it('gives an agent only the tools it lists that exist, fit its scopes and can run here', () => {
    const agent = { tools: ['posts.read', 'posts.write', 'memory.search', 'images.generate', 'shell.exec'] };
    const { tools, withheld } = allowedTools(
      agent,
      { scopes: ['posts:read', 'memory:read', 'media:write'] },
      builtinTools,
      services(false),
    );
    expect(tools.map((t) => t.name)).toEqual(['posts.read']);
    expect(Object.fromEntries(withheld.map((w) => [w.name, w.reason]))).toEqual({
      'posts.write': expect.stringMatching(/posts:write, outside the agent's scopes/),
      'memory.search': expect.stringMatching(/memory is not available/),
      'images.generate': expect.stringMatching(/posts:write/),
      'shell.exec': 'no such tool',
    });
    const open = allowedTools(agent, {}, builtinTools, services(true));
    expect(open.tools.map((t) => t.name)).toEqual(['posts.read', 'posts.write', 'memory.search']);
    expect(open.withheld.find((w) => w.name === 'images.generate')?.reason).toMatch(/no media store/);
  });

  it('sends tool names providers accept, with object schemas for the arguments', () => {
    for (const tool of builtinTools.values()) {
      expect(wireName(tool.name)).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
      expect(parametersOf(tool).type).toBe('object');
    }
    expect(parametersOf(builtinTools.get('posts.write')!).properties).toHaveProperty('title');
  });

  it('finds the post a task is about: its input, its link, or what a task it depends on made', () => {
    const task = { input: {}, relatedPostId: null } as unknown as Task;
    const dep = (output: unknown) => ({
      id: 'd',
      title: 'd',
      taskType: 't',
      agentSlug: null,
      status: 'success',
      output,
    });
    expect(postOf(task, [dep({ text: 'x' }), dep({ postId: 'p2' })])).toBe('p2');
    expect(postOf({ ...task, relatedPostId: 'p1' }, [dep({ postId: 'p2' })])).toBe('p1');
    expect(postOf({ ...task, input: { postId: 'p0' } }, [])).toBe('p0');
    expect(postOf(task, [])).toBeNull();
  });
});
