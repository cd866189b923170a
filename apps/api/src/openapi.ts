import {
  type ActionName,
  AgentExecuteRequest,
  AgentExecuteResponse,
  actionNames,
  actions,
  ErrorEnvelope,
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

/** The OpenAPI 3.1 document, generated from the contracts: one operation per action. */
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
