import {
  type DelegationPlan,
  MemorySearchInput,
  MemoryType,
  MemoryUpsertInput,
  OraError,
  PlanStep,
  type Post,
  Slug,
  type TaskStepInput,
} from '@ora/contracts';
import { z } from 'zod';
import { costOf, priceOf } from '../../providers/prices';
import { parseModelRef } from '../../providers/registry';
import { analyticsForPost, analyticsSummary } from '../../site/analytics.service';
import { uploadMedia } from '../../site/media.service';
import { extensionFor, sniffContentType } from '../../site/media-sniff';
import { createPost, getPost, listPosts, updatePost } from '../../site/posts.service';
import { getSettings, postUrl } from '../../site/settings.service';
import { planDag } from '../../tasks/dag';
import { createTaskGraph } from '../../tasks/tasks.service';
import { getWorkflow, listWorkflows, runWorkflow } from '../../workflows/workflows.service';
import { analyzeSeo } from './seo';
import { defineTool, type ToolContext, type ToolDefinition, toolRegistry } from './tool';

const Id = z.uuid();
const BODY_LIMIT = 30_000;

/** Task types that are system steps (no agent) a plan may contain. */
export const SYSTEM_STEP_TYPES = ['publish_post'] as const;

function postForModel(post: Post, url: string | null) {
  const body = post.body.length > BODY_LIMIT ? `${post.body.slice(0, BODY_LIMIT)}\n[... truncated]` : post.body;
  return {
    id: post.id,
    title: post.title,
    slug: post.slug,
    status: post.status,
    revision: post.revision,
    url,
    excerpt: post.excerpt,
    tags: post.tags,
    seo: post.seo,
    cover: post.cover,
    body,
  };
}

const postDeps = (ctx: ToolContext) => ({ db: ctx.db, clock: ctx.clock });

function changedPosts(ctx: ToolContext): void {
  try {
    ctx.services.onPostsChanged?.();
  } catch (error) {
    ctx.log.warn({ err: error }, 'could not clear the page cache');
  }
}

const memoryUnavailable = (s: { memory: unknown }) =>
  s.memory ? null : 'memory is not available on this server (the memory service is not wired)';

export const memorySearchTool = defineTool({
  name: 'memory.search',
  description:
    "Search this agent's memory (facts, preferences, skills, earlier learnings) by meaning and words. Returns the best matches with their content.",
  scopes: ['memory:read'],
  sideEffect: false,
  input: z.object({
    query: z.string().trim().min(1).max(500).describe('What to look for'),
    types: z.array(MemoryType).max(8).optional().describe('Only these kinds of memory'),
    limit: z.number().int().min(1).max(20).optional().describe('How many results (default 5)'),
  }),
  unavailable: memoryUnavailable,
  async run(ctx, args) {
    const memory = ctx.services.memory;
    if (!memory) throw new OraError({ code: 'CONFLICT', message: 'memory is not available' });
    const found = await memory.search(
      ctx.actor,
      MemorySearchInput.parse({
        query: args.query,
        limit: args.limit ?? 5,
        ...(args.types ? { types: args.types } : {}),
      }),
    );
    return {
      results: found.hits.map((hit) => ({
        type: hit.memory.type,
        key: hit.memory.key,
        summary: hit.memory.summary,
        content: hit.memory.content,
        importance: hit.memory.importance,
        score: Math.round(hit.score.total * 1000) / 1000,
      })),
    };
  },
});

export const memoryWriteTool = defineTool({
  name: 'memory.write',
  description:
    "Remember something for later runs (this agent's memory): a fact, preference, skill or reflection under a stable key. Writing the same type and key again updates it.",
  scopes: ['memory:write'],
  sideEffect: true,
  input: z.object({
    type: MemoryType,
    key: z.string().trim().min(1).max(200).describe('A stable name, e.g. "audience.tone"'),
    content: z.unknown().describe('What to remember (text or JSON)'),
    summary: z.string().max(1000).optional().describe('One line, for search'),
    importance: z.number().min(0).max(1).optional().describe('0 to 1 (default 0.5)'),
  }),
  unavailable: memoryUnavailable,
  async run(ctx, args) {
    const memory = ctx.services.memory;
    if (!memory) throw new OraError({ code: 'CONFLICT', message: 'memory is not available' });
    const written = await memory.upsert(
      ctx.actor,
      MemoryUpsertInput.parse({
        type: args.type,
        key: args.key,
        content: args.content ?? null,
        ...(args.summary ? { summary: args.summary } : {}),
        ...(args.importance !== undefined ? { importance: args.importance } : {}),
        runId: ctx.runId,
        taskId: ctx.task.id,
      }),
      { runId: ctx.runId, taskId: ctx.task.id },
    );
    return {
      id: written.memory.id,
      key: written.memory.key,
      version: written.memory.version,
      created: written.created,
      changed: written.changed,
    };
  },
});

export const postsReadTool = defineTool({
  name: 'posts.read',
  description:
    'Read one post (by id or slug) with its body and SEO fields, or list recent posts (no id or slug) with their titles and status.',
  scopes: ['posts:read'],
  sideEffect: false,
  input: z.object({
    id: Id.optional(),
    slug: Slug.optional(),
    status: z.enum(['draft', 'scheduled', 'published', 'archived']).optional().describe('When listing'),
    limit: z.number().int().min(1).max(50).optional().describe('When listing (default 10)'),
  }),
  async run(ctx, args) {
    if (args.id || args.slug) {
      const post = await getPost(postDeps(ctx), ctx.actor, args.id ? { id: args.id } : { slug: args.slug as string });
      const { settings } = await getSettings(ctx);
      return postForModel(post, postUrl(settings, post.slug));
    }
    const page = await listPosts(postDeps(ctx), ctx.actor, {
      limit: args.limit ?? 10,
      ...(args.status ? { status: args.status } : {}),
    });
    return {
      posts: page.items.map((p) => ({
        id: p.id,
        title: p.title,
        slug: p.slug,
        status: p.status,
        updatedAt: p.updatedAt,
      })),
    };
  },
});

const SeoFields = z.object({
  metaTitle: z.string().trim().max(300).nullable().optional(),
  metaDescription: z.string().trim().max(1000).nullable().optional(),
  keywords: z.array(z.string().trim().min(1).max(100)).max(20).optional(),
});

export const postsWriteTool = defineTool({
  name: 'posts.write',
  description:
    'Save a post as a draft: without an id, create one (title required); with an id, change the fields given (the previous state is kept as a revision). Never publishes.',
  scopes: ['posts:write'],
  sideEffect: true,
  input: z.object({
    id: Id.optional().describe('The post to change; absent: create a new draft'),
    title: z.string().trim().min(1).max(300).optional(),
    body: z.string().max(200_000).optional().describe('Markdown'),
    excerpt: z.string().max(2000).nullable().optional(),
    tags: z.array(z.string().trim().min(1).max(100)).max(20).optional(),
    slug: Slug.optional(),
    seo: SeoFields.optional(),
  }),
  async run(ctx, args) {
    const { id, ...fields } = args;
    let post: Post;
    if (id) {
      post = await updatePost(postDeps(ctx), ctx.actor, { id, ...fields });
    } else {
      if (!fields.title) {
        throw new OraError({ code: 'VALIDATION_ERROR', message: 'title is required to create a post' });
      }
      post = await createPost(postDeps(ctx), ctx.actor, { ...fields, title: fields.title });
    }
    changedPosts(ctx);
    return { id: post.id, title: post.title, slug: post.slug, status: post.status, revision: post.revision };
  },
  artifacts: (result) => ({ postId: result.id }),
});

export const settingsReadTool = defineTool({
  name: 'settings.read',
  description: "Read the site's settings: name, address, language, default author, brand voice, posting cadence.",
  scopes: ['settings:read'],
  sideEffect: false,
  input: z.object({}),
  async run(ctx) {
    return (await getSettings(ctx)).settings;
  },
});

export const seoAnalyzeTool = defineTool({
  name: 'seo.analyze',
  description:
    'Check a post for search engines: title and meta description length, headings, focus keyword placement and density, readability, links, image alt text, slug, length. Returns a score and every check.',
  scopes: ['posts:read'],
  sideEffect: false,
  input: z.object({
    postId: Id,
    keyword: z.string().trim().min(1).max(100).optional().describe("Focus keyword (default: the post's first keyword)"),
  }),
  async run(ctx, args) {
    const post = await getPost(postDeps(ctx), ctx.actor, { id: args.postId });
    return { postId: post.id, ...analyzeSeo(post, args.keyword) };
  },
  artifacts: (result) => ({
    seo: {
      postId: result.postId,
      score: result.score,
      failed: result.checks.filter((c) => c.status !== 'pass').map((c) => c.id),
    },
  }),
});

export const imagesGenerateTool = defineTool({
  name: 'images.generate',
  description:
    "Generate an image from a prompt, store it in the site's media, and (with postId) make it the post's cover image.",
  scopes: ['media:write', 'posts:write'],
  sideEffect: true,
  input: z.object({
    prompt: z.string().trim().min(3).max(4000).describe('A concrete scene; no text in the image'),
    postId: Id.optional().describe('Use the image as this post’s cover'),
    alt: z.string().trim().min(1).max(500).describe('Alt text describing the image'),
    size: z.enum(['1024x1024', '1536x1024', '1024x1536']).optional(),
  }),
  unavailable(services) {
    if (!services.media) return 'no media store';
    const model = services.providers.imageModel();
    const ref = model ? parseModelRef(model) : null;
    if (!ref) return 'no image model (set ORA_IMAGE_MODEL, or OPENAI_API_KEY for openai/gpt-image-1)';
    if (!services.providers.get(ref.provider)?.generateImage) return `${ref.provider} generates no images`;
    return null;
  },
  async run(ctx, args) {
    const modelRef = ctx.services.providers.imageModel() as string;
    const ref = parseModelRef(modelRef);
    const provider = ref ? ctx.services.providers.get(ref.provider) : null;
    const media = ctx.services.media;
    if (!ref || !provider?.generateImage || !media) {
      throw new OraError({ code: 'CONFLICT', message: 'image generation is not available on this server' });
    }
    const started = Date.now();
    const image = await provider.generateImage({
      model: ref.model,
      prompt: args.prompt,
      ...(args.size ? { size: args.size } : {}),
      timeoutMs: ctx.services.providers.config.timeoutMs,
      signal: ctx.signal,
    });
    const price = priceOf(ctx.services.providers.prices, modelRef);
    ctx.spend({
      model: modelRef,
      inputTokens: image.usage?.inputTokens ?? 0,
      outputTokens: image.usage?.outputTokens ?? 0,
      cost: costOf(price, image.usage ?? { inputTokens: 0, outputTokens: 0 }, 1),
      priced: price !== null,
      durationMs: Date.now() - started,
    });
    const type = sniffContentType(image.data) ?? 'image/png';
    const item = await uploadMedia(
      { db: ctx.db, clock: ctx.clock, store: media.store, limits: media.limits },
      ctx.actor,
      {
        filename: `image-${ctx.runId.slice(0, 8)}.${extensionFor(type)}`,
        data: image.data.toString('base64'),
        alt: args.alt,
      },
    );
    if (args.postId) {
      await updatePost(postDeps(ctx), ctx.actor, { id: args.postId, cover: { mediaId: item.id, alt: args.alt } });
      changedPosts(ctx);
    }
    return {
      mediaId: item.id,
      url: `/media/${item.id}`,
      contentType: item.contentType,
      coverOf: args.postId ?? null,
      revisedPrompt: image.revisedPrompt,
    };
  },
  artifacts: (result) => ({ mediaIds: [result.mediaId], ...(result.coverOf ? { postId: result.coverOf } : {}) }),
});

export const mediaWriteTool = defineTool({
  name: 'media.write',
  description: "Use an existing media item as a post's cover image, with its alt text.",
  scopes: ['media:read', 'posts:write'],
  sideEffect: true,
  input: z.object({ mediaId: Id, postId: Id, alt: z.string().trim().min(1).max(500) }),
  async run(ctx, args) {
    const post = await updatePost(postDeps(ctx), ctx.actor, {
      id: args.postId,
      cover: { mediaId: args.mediaId, alt: args.alt },
    });
    changedPosts(ctx);
    return { postId: post.id, cover: post.cover };
  },
  artifacts: (result) => ({ postId: result.postId }),
});

/** Length limits per network; links count as 23 characters on X (t.co). */
export const socialLimits = {
  x: 280,
  bluesky: 300,
  mastodon: 500,
  threads: 500,
  linkedin: 3000,
  facebook: 63_206,
} as const;

export const socialDraftTool = defineTool({
  name: 'social.draft',
  description:
    "Check and record a social post draft for a network: counts its length against the network's limit (with the link) and reports problems. Drafts that fit are part of the task's result.",
  scopes: ['posts:read'],
  sideEffect: false,
  input: z.object({
    network: z.enum(Object.keys(socialLimits) as [keyof typeof socialLimits, ...Array<keyof typeof socialLimits>]),
    text: z.string().trim().min(1).max(70_000),
    link: z
      .url({ protocol: /^https?$/ })
      .max(2000)
      .optional(),
  }),
  async run(_ctx, args) {
    const limit = socialLimits[args.network];
    const text = args.link && !args.text.includes(args.link) ? `${args.text} ${args.link}` : args.text;
    const linkLength = args.network === 'x' && args.link ? 23 : (args.link?.length ?? 0);
    const length = args.link ? text.length - args.link.length + linkLength : text.length;
    const problems: string[] = [];
    if (length > limit) problems.push(`${length} characters; ${args.network} allows ${limit}`);
    const hashtags = (text.match(/#\w+/g) ?? []).length;
    if (hashtags > 3) problems.push(`${hashtags} hashtags; use at most 3`);
    return { network: args.network, text, length, limit, ok: problems.length === 0, problems };
  },
  artifacts: (result) =>
    result.ok
      ? { drafts: [{ network: result.network, text: result.text, length: result.length, limit: result.limit }] }
      : {},
});

const Day = z.iso.date();

export const analyticsQueryTool = defineTool({
  name: 'analytics.query',
  description:
    "Query the site's analytics over a range of UTC days: views, visitors, top posts, paths, referrers and devices; or, with postId, one post's views per day and referrers.",
  scopes: ['analytics:read'],
  sideEffect: false,
  input: z.object({
    postId: Id.optional(),
    from: Day.optional().describe('YYYY-MM-DD (default 29 days before `to`)'),
    to: Day.optional().describe('YYYY-MM-DD (default today)'),
    top: z.number().int().min(1).max(50).optional(),
  }),
  async run(ctx, args) {
    const range = { ...(args.from ? { from: args.from } : {}), ...(args.to ? { to: args.to } : {}) };
    if (args.postId) return analyticsForPost(ctx, { ...range, id: args.postId });
    return analyticsSummary(ctx, { ...range, top: args.top ?? 10 });
  },
});

export const workflowsListTool = defineTool({
  name: 'workflows.list',
  description: 'The workflows (named DAG templates) this server can run, with the input each takes and its steps.',
  scopes: ['workflows:read'],
  sideEffect: false,
  input: z.object({}),
  async run(ctx) {
    const { items } = await listWorkflows(ctx);
    return {
      workflows: items.map((w) => ({
        name: w.name,
        description: w.definition.description,
        input: w.definition.input,
        steps: w.definition.steps.map((s) => ({
          ref: s.ref,
          agent: s.agent ?? null,
          taskType: s.taskType,
          dependsOn: s.dependsOn ?? [],
        })),
      })),
    };
  },
});

/** How deep delegations may nest (a delegated task delegating again...). */
const MAX_DELEGATION_DEPTH = 3;

async function delegationDepth(ctx: ToolContext): Promise<number> {
  let depth = 0;
  let parent = ctx.task.parentTaskId;
  let delegated = ctx.task.delegatedBy !== null;
  while (parent && delegated && depth <= MAX_DELEGATION_DEPTH) {
    depth += 1;
    const row = await ctx.db
      .selectFrom('agent_tasks')
      .select(['parent_task_id', 'delegated_by'])
      .where('id', '=', parent)
      .executeTakeFirst();
    parent = row?.parent_task_id ?? null;
    delegated = row?.delegated_by !== null && row?.delegated_by !== undefined;
  }
  return depth;
}

/** Checks a plan against what exists (workflow and its input, agents, step types, refs). */
async function checkPlan(ctx: ToolContext, plan: DelegationPlan): Promise<void> {
  if (plan.kind === 'workflow') {
    const workflow = await getWorkflow(ctx, { name: plan.workflow });
    const missing = Object.entries(workflow.definition.input)
      .filter(([key, spec]) => spec.required && (plan.input[key] === undefined || plan.input[key] === ''))
      .map(([key]) => key);
    if (missing.length) {
      throw new OraError({
        code: 'VALIDATION_ERROR',
        message: `workflow ${plan.workflow} needs input ${missing.join(', ')}`,
      });
    }
    return;
  }
  const agents = [...new Set(plan.steps.flatMap((s) => (s.agent ? [s.agent] : [])))];
  const known = agents.length
    ? await ctx.db
        .selectFrom('agents')
        .select('slug')
        .where('slug', 'in', agents)
        .where('is_active', '=', true)
        .execute()
    : [];
  const unknown = agents.filter((a) => !known.some((k) => k.slug === a));
  if (unknown.length)
    throw new OraError({ code: 'VALIDATION_ERROR', message: `no active agent ${unknown.join(', ')}` });
  const system = plan.steps.filter((s) => !s.agent && !(SYSTEM_STEP_TYPES as readonly string[]).includes(s.taskType));
  if (system.length) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `steps without an agent must be one of ${SYSTEM_STEP_TYPES.join(', ')} (got ${system.map((s) => s.taskType).join(', ')})`,
    });
  }
  planDag(plan.steps as TaskStepInput[]);
}

export const delegateTool = defineTool({
  name: 'delegate',
  description:
    'Hand work to other agents: either a known workflow with its input, or steps (each for an agent, with dependsOn refs). When the task is a planning request, this records the plan; otherwise it creates the follow-up tasks in this task’s chain (within its budget).',
  scopes: ['tasks:write'],
  sideEffect: true,
  input: z.object({
    reason: z.string().trim().min(1).max(2000).describe('Why this plan, in a sentence or two'),
    workflow: z
      .object({ name: z.string().min(1).max(100), input: z.record(z.string(), z.unknown()).optional() })
      .optional(),
    steps: z.array(PlanStep).min(1).max(20).optional(),
  }),
  async run(ctx, args) {
    if ((args.workflow ? 1 : 0) + (args.steps ? 1 : 0) !== 1) {
      throw new OraError({ code: 'VALIDATION_ERROR', message: 'give either workflow or steps' });
    }
    const plan: DelegationPlan = args.workflow
      ? { kind: 'workflow', workflow: args.workflow.name, input: args.workflow.input ?? {} }
      : { kind: 'steps', steps: args.steps as PlanStep[] };
    await checkPlan(ctx, plan);
    const mode = (ctx.task.input as { delegateMode?: unknown } | null)?.delegateMode;
    if (mode === 'plan') return { recorded: true, created: null, plan };

    // A workflow counts as one delegation, each step of a DAG as one.
    const count = plan.kind === 'steps' ? plan.steps.length : 1;
    const already = ctx.artifacts.delegated?.taskIds.length ?? 0;
    if (already + count > ctx.agent.maxDelegations) {
      throw new OraError({
        code: 'FORBIDDEN',
        message: `this run may create at most ${ctx.agent.maxDelegations} follow-up task(s) (config.maxDelegations)`,
      });
    }
    if ((await delegationDepth(ctx)) >= MAX_DELEGATION_DEPTH) {
      throw new OraError({ code: 'FORBIDDEN', message: `delegations may nest ${MAX_DELEGATION_DEPTH} deep at most` });
    }
    // The tasks are the agent's delegation, not tasks of the agent itself: the bound-agent rule of keys
    // (a key bound to an agent creates tasks for that agent only) does not apply; delegatedBy records who.
    const actor = { ...ctx.actor, agentId: null };
    const deps = {
      db: ctx.db,
      clock: ctx.clock,
      ...(ctx.services.dispatch ? { dispatch: ctx.services.dispatch } : {}),
    };
    const created =
      plan.kind === 'workflow'
        ? await runWorkflow(
            deps,
            actor,
            { name: plan.workflow, input: plan.input, source: 'server' },
            { parentTaskId: ctx.task.id, delegatedBy: ctx.agent.id },
          )
        : await createTaskGraph(deps, actor, plan.steps as TaskStepInput[], {
            parentTaskId: ctx.task.id,
            delegatedBy: ctx.agent.id,
            source: 'server',
          });
    return { recorded: true, created: { chainId: created.chainId, taskIds: created.tasks.map((t) => t.id) }, plan };
  },
  artifacts: (result) => ({ plan: result.plan, ...(result.created ? { delegated: result.created } : {}) }),
});

/** Every tool ORA ships, by canonical name (the names agents list in `tools`). */
export const builtinTools = toolRegistry([
  memorySearchTool,
  memoryWriteTool,
  postsReadTool,
  postsWriteTool,
  settingsReadTool,
  seoAnalyzeTool,
  imagesGenerateTool,
  mediaWriteTool,
  socialDraftTool,
  analyticsQueryTool,
  workflowsListTool,
  delegateTool,
] as ToolDefinition[]);
