import { z } from 'zod';
import { Id, IpOrCidr, PageInput, page, Timestamp } from './common';
import { Scope } from './scopes';

export const ApiKey = z
  .object({
    id: Id,
    name: z.string(),
    description: z.string().nullable(),
    prefix: z.string().meta({ description: 'The start of the secret, to recognise the key by' }),
    scopes: z.array(z.string()),
    agentId: Id.nullable(),
    allowedIps: z.array(z.string()).nullable(),
    rateLimitPerMinute: z.number().int(),
    rateLimitPerDay: z.number().int(),
    expiresAt: Timestamp.nullable(),
    isActive: z.boolean(),
    revokedAt: Timestamp.nullable(),
    revokedReason: z.string().nullable(),
    totalRequests: z.number().int(),
    lastUsedAt: Timestamp.nullable(),
    lastUsedIp: z.string().nullable(),
    rotatedFromKeyId: Id.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ description: 'An API key, without its secret' });
export type ApiKey = z.infer<typeof ApiKey>;

const Name = z.string().trim().min(1).max(200);
const Limit = z.number().int().min(1).max(1_000_000_000);

export const KeySettings = z.object({
  description: z.string().max(2000).nullable().optional(),
  scopes: z.array(Scope).min(1).max(100).optional(),
  allowedIps: z.array(IpOrCidr).max(100).nullable().optional().meta({
    description: 'Addresses or CIDR blocks the key may be used from; null or absent allows any',
  }),
  rateLimitPerMinute: Limit.optional(),
  rateLimitPerDay: Limit.optional(),
  expiresAt: Timestamp.nullable().optional(),
});

export const KeysCreateInput = KeySettings.extend({
  name: Name,
  agentId: Id.nullable()
    .optional()
    .meta({ description: "Bind the key to one agent: it then sees only that agent's data" }),
});
export const KeyWithSecret = z.object({
  key: ApiKey,
  secret: z.string().meta({ description: 'The full key. Shown once: only its hash is stored' }),
});

export const KeysListInput = PageInput.extend({
  includeRevoked: z.boolean().default(false),
});
export const KeysListOutput = page(ApiKey);

export const KeysGetInput = z.object({ id: Id });

export const KeysUpdateInput = KeySettings.extend({ id: Id, name: Name.optional() });

export const KeysRevokeInput = z.object({
  id: Id,
  reason: z.string().max(500).optional(),
});

export const KeysRotateInput = z.object({
  id: Id,
  reason: z.string().max(500).optional(),
  gracePeriodSeconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600)
    .default(0)
    .meta({ description: 'Keep the old key working this long (it expires then); 0 revokes it at once' }),
});
export const KeysRotateOutput = KeyWithSecret.extend({ previousKey: ApiKey });

export const WhoAmIOutput = z.object({
  keyId: Id,
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  agentId: Id.nullable(),
  expiresAt: Timestamp.nullable(),
});
