import {
  type ActionName,
  AgentExecuteRequest,
  AgentExecuteResponse,
  actionNames,
  actions,
  CollectInput,
  ErrorEnvelope,
  PublicLeadInput,
  PublicPost,
  PublicPostSummary,
  PublicPostsQuery,
} from '@ora/contracts';
import { z } from 'zod';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

const errorStatuses: Record<string, string> = {
  '400': 'VALIDATION_ERROR: bad input, unknown action or malformed JSON',
  '401': 'UNAUTHORIZED: missing, malformed, unknown, expired or revoked key',
  '403': 'FORBIDDEN: the key lacks the scope, or is not allowed from this address',
  '404': 'NOT_FOUND',
  '409': 'CONFLICT',
  '413': 'VALIDATION_ERROR: body over the size limit',
  '429': 'RATE_LIMITED: see Retry-After',
  '500': 'INTERNAL_ERROR: no internals in the body; the log has them under the request id',
};

function errorResponses() {
  return Object.fromEntries(
    Object.entries(errorStatuses).map(([status, description]) => [
      status,
      { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } } },
    ]),
  );
}

/** Only the given error statuses (routes without a key answer no 401 or 403). */
function someErrorResponses(...statuses: string[]) {
  const all = errorResponses();
  return Object.fromEntries(statuses.map((status) => [status, all[status]]));
}

/** `{data, requestId}` around `data`. */
function envelope(data: JsonSchema): JsonSchema {
  return { type: 'object', required: ['data', 'requestId'], properties: { data, requestId: { type: 'string' } } };
}

const text = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: { type: 'string' } } },
});

/** The query parameters of a zod object, one per property. */
function queryParameters(schema: z.ZodObject) {
  const json = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

/** A CORS preflight answer of the public forms. */
const preflight = (operationId: string) => ({
  operationId,
  summary: 'CORS preflight: the form may be posted from another origin',
  tags: ['site'],
  responses: { '204': { description: 'Allowed: POST with Content-Type, from any origin' } },
});

/**
 * The routes without a key: the public site (posts, feed, sitemap, media, the lead form and the
 * page-view beacon), the docs and the admin UI. Each may be put behind a reverse proxy as it is.
 */
function publicPaths(): Record<string, unknown> {
  return {
    '/posts': {
      get: {
        operationId: 'site_posts',
        summary: 'Published posts, newest first: JSON, or an HTML page when Accept asks for text/html',
        tags: ['site'],
        parameters: queryParameters(PublicPostsQuery),
        responses: {
          '200': {
            description: 'A page of posts; pass nextCursor as cursor for the next one',
            content: {
              'application/json': {
                schema: envelope({
                  type: 'object',
                  required: ['items', 'nextCursor'],
                  properties: {
                    items: { type: 'array', items: jsonSchema(PublicPostSummary, 'output') },
                    nextCursor: { type: ['string', 'null'] },
                  },
                }),
              },
              'text/html': { schema: { type: 'string' } },
            },
          },
          ...someErrorResponses('400', '500'),
        },
      },
    },
    '/posts/{slug}': {
      get: {
        operationId: 'site_post',
        summary: 'One published post: an HTML page, or JSON when Accept asks for application/json only',
        tags: ['site'],
        parameters: [{ name: 'slug', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'The post',
            content: {
              'text/html': { schema: { type: 'string' } },
              'application/json': { schema: envelope(jsonSchema(PublicPost, 'output')) },
            },
          },
          ...someErrorResponses('404', '500'),
        },
      },
    },
    '/feed.xml': {
      get: {
        operationId: 'site_feed',
        summary: 'RSS 2.0 feed of the published posts',
        tags: ['site'],
        responses: { '200': text('application/rss+xml', 'The feed'), ...someErrorResponses('500') },
      },
    },
    '/sitemap.xml': {
      get: {
        operationId: 'site_sitemap',
        summary: 'Sitemap of the published posts',
        tags: ['site'],
        responses: { '200': text('application/xml', 'The sitemap'), ...someErrorResponses('500') },
      },
    },
    '/media/{id}': {
      get: {
        operationId: 'site_media',
        summary: 'An uploaded file, cached for good (a new upload is a new id); If-None-Match answers 304',
        tags: ['site'],
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
        responses: {
          '200': {
            description: 'The bytes, with their content type',
            content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
          },
          '304': { description: 'Not modified (the ETag matched)' },
          ...someErrorResponses('404', '500'),
        },
      },
    },
    '/leads': {
      post: {
        operationId: 'site_lead',
        summary: 'The public contact form: stores a lead (leads.list reads them); limited per address',
        tags: ['site'],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: jsonSchema(PublicLeadInput, 'input') } },
        },
        responses: {
          '201': {
            description: 'Received',
            content: {
              'application/json': {
                schema: envelope({ type: 'object', required: ['received'], properties: { received: { const: true } } }),
              },
            },
          },
          ...someErrorResponses('400', '413', '429', '500'),
        },
      },
      options: preflight('site_lead_preflight'),
    },
    '/collect': {
      post: {
        operationId: 'site_collect',
        summary: 'The page-view beacon of the public site (no cookies; bots are not counted); limited per address',
        tags: ['site'],
        requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(CollectInput, 'input') } } },
        responses: {
          '202': {
            description: 'Taken',
            content: {
              'application/json': {
                schema: envelope({
                  type: 'object',
                  required: ['recorded'],
                  properties: { recorded: { type: 'boolean' } },
                }),
              },
            },
          },
          ...someErrorResponses('400', '413', '429', '500'),
        },
      },
      options: preflight('site_collect_preflight'),
    },
    '/openapi.json': {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        tags: ['docs'],
        responses: {
          '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
    '/docs': {
      get: {
        operationId: 'docs',
        summary: 'This document as a page',
        tags: ['docs'],
        responses: { '200': text('text/html', 'The page') },
      },
    },
    '/admin': {
      get: {
        operationId: 'admin',
        summary: 'The admin UI (it asks for a key)',
        tags: ['admin'],
        responses: { '200': text('text/html', 'The page') },
      },
    },
    '/admin/': {
      get: {
        operationId: 'admin_slash',
        summary: 'The admin UI',
        tags: ['admin'],
        responses: { '200': text('text/html', 'The page') },
      },
    },
    '/admin/assets/{file}': {
      get: {
        operationId: 'admin_asset',
        summary: 'A file of the admin UI',
        tags: ['admin'],
        parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': { description: 'The file' }, ...someErrorResponses('404') },
      },
    },
  };
}

function operation(name: ActionName) {
  const def = actions[name];
  const domain = name.split('.')[0] as string;
  return {
    post: {
      operationId: name.replace(/\./g, '_'),
      summary: def.summary,
      description: [
        `Scope: ${def.scope ?? 'any valid key'}.`,
        def.mutates ? 'Changes state: audited, and accepts an Idempotency-Key header.' : 'Reads only.',
        `The same call as POST /api/ora with {"action": "${name}", "data": <this body>}.`,
      ].join(' '),
      tags: [domain],
      security: [{ bearer: [] }],
      ...(def.mutates
        ? {
            parameters: [
              { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } },
            ],
          }
        : {}),
      requestBody: { required: false, content: { 'application/json': { schema: jsonSchema(def.input, 'input') } } },
      responses: {
        '200': {
          description: 'Success',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['data', 'requestId'],
                properties: { data: jsonSchema(def.output, 'output'), requestId: { type: 'string' } },
              },
            },
          },
        },
        ...errorResponses(),
      },
    },
  };
}

/**
 * The OpenAPI 3.1 document, generated from the contracts: one operation per action, and every
 * other route the server answers (the test checks that against the app's routes).
 */
export function buildOpenApiDocument(serverUrl?: string) {
  const paths: Record<string, unknown> = {
    '/api/ora': {
      post: {
        operationId: 'ora_action',
        summary: 'Call any action by name',
        tags: ['api'],
        security: [{ bearer: [] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['action'],
                properties: {
                  action: { type: 'string', enum: actionNames },
                  data: { description: "The action's input; see POST /api/ora/{action}" },
                },
              },
            },
          },
        },
        responses: {
          '200': {
            description: 'Success',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['data', 'requestId'],
                  properties: { data: {}, requestId: { type: 'string' } },
                },
              },
            },
          },
          ...errorResponses(),
        },
      },
    },
    '/api/agent': {
      post: {
        operationId: 'agent_execute',
        summary: 'Queue a run of an agent (the internal execution endpoint): answers at once with the task',
        description: 'Scope: agents:write. Follow the task with tasks.get or the event stream.',
        tags: ['agents'],
        security: [{ bearer: [] }],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: jsonSchema(AgentExecuteRequest, 'input') } },
        },
        responses: {
          '202': {
            description: 'Queued',
            content: { 'application/json': { schema: jsonSchema(AgentExecuteResponse, 'output') } },
          },
          ...errorResponses(),
        },
      },
    },
    '/api/ora/events': {
      get: {
        operationId: 'events_stream',
        summary: 'The event log as Server-Sent Events (live, resumable)',
        description:
          'Scope: events:read (a key bound to an agent gets only its events). Each message is `id: <seq>`, ' +
          '`event: <type>`, `data: <event JSON>` (as events.list items). Resume after the last id with the ' +
          'Last-Event-ID header (EventSource sends it on reconnect) or `after`. Comment lines keep idle streams open.',
        tags: ['events'],
        security: [{ bearer: [] }],
        parameters: [
          {
            name: 'types',
            in: 'query',
            description: 'Comma-separated event types, `<domain>.*` or `*`',
            schema: { type: 'string' },
          },
          { name: 'agentId', in: 'query', schema: { type: 'string', format: 'uuid' } },
          { name: 'taskId', in: 'query', schema: { type: 'string', format: 'uuid' } },
          {
            name: 'after',
            in: 'query',
            description: 'Start after this event seq',
            schema: { type: 'string', pattern: '^\\d+$' },
          },
          {
            name: 'Last-Event-ID',
            in: 'header',
            description: 'Start after this event seq (wins over after)',
            schema: { type: 'string', pattern: '^\\d+$' },
          },
        ],
        responses: {
          '200': { description: 'The stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...errorResponses(),
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'healthz',
        summary: 'Liveness',
        tags: ['ops'],
        responses: { '200': { description: 'The process is up' } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary: 'Readiness: database, queue, capabilities',
        tags: ['ops'],
        responses: { '200': { description: 'Ready' }, '503': { description: 'Not ready; the body says what is not' } },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        tags: ['ops'],
        responses: { '200': { description: 'Metrics in the Prometheus text format' } },
      },
    },
  };
  for (const name of actionNames) paths[`/api/ora/${name}`] = operation(name);
  Object.assign(paths, publicPaths());

  return {
    openapi: '3.1.0',
    info: {
      title: 'ORA API',
      version: '0.1.0',
      description:
        "ORA's action API. Every call is POST with a Bearer key; success is {data, requestId}, failure {error: {code, message, details?}, requestId}.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An ORA key: ora_sk_...' } },
      schemas: { ErrorEnvelope: jsonSchema(ErrorEnvelope, 'output') },
    },
  };
}
