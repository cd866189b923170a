import { z } from 'zod';
import { Id, PageInput, page, Timestamp } from './common';

export const LeadStatus = z.enum(['new', 'contacted', 'qualified', 'converted', 'lost', 'spam']);
export type LeadStatus = z.infer<typeof LeadStatus>;

export const Lead = z
  .object({
    id: Id,
    email: z.string(),
    name: z.string().nullable(),
    source: z.string().nullable(),
    status: LeadStatus,
    message: z.string().nullable().meta({ description: 'What the visitor wrote in the form' }),
    notes: z.string().nullable(),
    tags: z.array(z.string()),
    createdVia: z.enum(['api', 'form']),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ description: 'A lead: someone who got in touch, or was added by the operator or an agent' });
export type Lead = z.infer<typeof Lead>;

const Email = z.email().max(320);
const Name = z.string().trim().min(1).max(200);
const Source = z.string().trim().min(1).max(200);
const Tags = z.array(z.string().trim().min(1).max(100)).max(50);

export const LeadsCreateInput = z.object({
  email: Email,
  name: Name.nullable().optional(),
  source: Source.nullable().optional(),
  status: LeadStatus.default('new'),
  message: z.string().max(5000).nullable().optional(),
  notes: z.string().max(20_000).nullable().optional(),
  tags: Tags.default([]),
});
export const LeadsUpdateInput = z.object({
  id: Id,
  email: Email.optional(),
  name: Name.nullable().optional(),
  source: Source.nullable().optional(),
  status: LeadStatus.optional(),
  message: z.string().max(5000).nullable().optional(),
  notes: z.string().max(20_000).nullable().optional(),
  tags: Tags.optional(),
});
export const LeadsGetInput = z.object({ id: Id });
export const LeadsListInput = PageInput.extend({
  status: LeadStatus.optional(),
  source: z.string().max(200).optional(),
  tag: z.string().max(100).optional(),
  email: z.string().max(320).optional().meta({ description: 'Exact address, case-insensitive' }),
});
export const LeadsListOutput = page(Lead);
export const LeadsDeleteInput = z.object({ id: Id });
export const LeadsDeleteOutput = z.object({ id: Id, deleted: z.literal(true) });

/** The public form (POST /leads, no key). */
export const PublicLeadInput = z.object({
  email: Email,
  name: Name.optional(),
  message: z.string().max(5000).optional(),
  source: Source.optional().meta({ description: 'Which form or page, e.g. "contact" or "/posts/hello"' }),
  website: z
    .string()
    .max(500)
    .optional()
    .meta({ description: 'Leave empty: a honeypot field that people never see and bots fill in' }),
});
export type PublicLeadInput = z.infer<typeof PublicLeadInput>;
