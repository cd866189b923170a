import { z } from 'zod';
import { Id, PageInput, page, Timestamp } from './common';

/** One row of the audit log: a mutation, who made it, when and from where. */
export const AuditEntry = z.object({
  id: z.string().meta({ description: "The entry's position in the log (it grows with time)" }),
  at: Timestamp,
  keyId: Id.nullable().meta({ description: 'The key that made the change; null for the system and the public forms' }),
  action: z.string().meta({ description: 'The action, e.g. "keys.revoke"' }),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditListInput = PageInput.extend({
  keyId: Id.optional(),
  action: z
    .string()
    .regex(/^[a-z_]+(\.[a-z_]+|\.\*)$/, 'an action name such as "keys.revoke", or "<domain>.*"')
    .optional()
    .meta({ description: 'An action name, or "<domain>.*" for all of a domain' }),
  targetType: z.string().max(100).optional(),
  targetId: z.string().max(200).optional(),
  since: Timestamp.optional().meta({ description: 'Entries at or after this time' }),
  until: Timestamp.optional().meta({ description: 'Entries before this time' }),
});
export const AuditListOutput = page(AuditEntry);
