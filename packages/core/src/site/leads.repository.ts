import type { Lead } from '@ora/contracts';
import type { LeadRow } from '@ora/db';

export function leadRowToLead(row: LeadRow): Lead {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    source: row.source,
    status: row.status,
    message: row.message,
    notes: row.notes,
    tags: row.tags,
    createdVia: row.created_via,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
