import { type ActionData, type ActionOutput, type Lead, OraError, type PublicLeadInput } from '@ora/contracts';
import type { LeadRow } from '@ora/db';
import { sql } from 'kysely';
import { recordAudit } from '../audit/audit';
import { recordEvent } from '../events/events';
import { pageFrom, timeIdAfter } from '../shared/cursor';
import type { Actor, Clock, Db, DbOrTx } from '../shared/deps';
import { leadRowToLead } from './leads.repository';

export interface LeadDeps {
  db: Db;
  clock: Clock;
}

async function insertLead(
  trx: DbOrTx,
  actor: Actor,
  values: ActionData<'leads.create'>,
  via: 'api' | 'form',
): Promise<LeadRow> {
  const row = await trx
    .insertInto('leads')
    .values({
      email: values.email,
      name: values.name ?? null,
      source: values.source ?? null,
      status: values.status,
      message: values.message ?? null,
      notes: values.notes ?? null,
      tags: values.tags,
      created_via: via,
      created_by_key_id: actor.keyId,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordAudit(trx, actor, {
    action: via === 'form' ? 'leads.submit' : 'leads.create',
    targetType: 'lead',
    targetId: row.id,
    details: { source: row.source, via },
  });
  await recordEvent(trx, actor, 'lead.created', {
    leadId: row.id,
    email: row.email,
    name: row.name,
    source: row.source,
  });
  return row;
}

export async function createLead(deps: LeadDeps, actor: Actor, input: ActionData<'leads.create'>): Promise<Lead> {
  const row = await deps.db.transaction().execute((trx) => insertLead(trx, actor, input, 'api'));
  return leadRowToLead(row);
}

/**
 * A lead from the public form. A filled-in honeypot field means a bot: nothing is stored, and the
 * answer looks the same, so the bot learns nothing.
 */
export async function submitPublicLead(
  deps: LeadDeps,
  actor: Actor,
  input: PublicLeadInput,
): Promise<{ stored: boolean }> {
  if (input.website && input.website.trim() !== '') return { stored: false };
  await deps.db.transaction().execute((trx) =>
    insertLead(
      trx,
      actor,
      {
        email: input.email,
        name: input.name ?? null,
        source: input.source ?? 'form',
        message: input.message ?? null,
        status: 'new',
        tags: [],
      },
      'form',
    ),
  );
  return { stored: true };
}

async function findLeadRow(db: DbOrTx, id: string, forUpdate = false): Promise<LeadRow> {
  let query = db.selectFrom('leads').selectAll().where('id', '=', id);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new OraError({ code: 'NOT_FOUND', message: `No lead with id ${id}` });
  return row;
}

export async function getLead(deps: Pick<LeadDeps, 'db'>, _actor: Actor, id: string): Promise<Lead> {
  return leadRowToLead(await findLeadRow(deps.db, id));
}

export async function listLeads(
  deps: Pick<LeadDeps, 'db'>,
  _actor: Actor,
  input: ActionData<'leads.list'>,
): Promise<ActionOutput<'leads.list'>> {
  let query = deps.db
    .selectFrom('leads')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (input.status) query = query.where('status', '=', input.status);
  if (input.source) query = query.where('source', '=', input.source);
  if (input.tag) query = query.where('tags', '@>', sql<string[]>`array[${input.tag}]::text[]`);
  if (input.email) query = query.where(sql`lower(email)`, '=', input.email.toLowerCase());
  const after = timeIdAfter(input.cursor);
  if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(...after)));
  return pageFrom(await query.execute(), input.limit, (row) => [row.created_at.toISOString(), row.id], leadRowToLead);
}

export async function updateLead(deps: LeadDeps, actor: Actor, input: ActionData<'leads.update'>): Promise<Lead> {
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await findLeadRow(trx, input.id, true);
    const { id: _id, ...fields } = input;
    const changes = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    if (Object.keys(changes).length === 0) return current;
    const updated = await trx
      .updateTable('leads')
      .set({ ...changes, updated_at: deps.clock.now() })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'leads.update',
      targetType: 'lead',
      targetId: current.id,
      details: { changed: Object.keys(changes) },
    });
    return updated;
  });
  return leadRowToLead(row);
}

export async function deleteLead(
  deps: LeadDeps,
  actor: Actor,
  input: ActionData<'leads.delete'>,
): Promise<ActionOutput<'leads.delete'>> {
  await deps.db.transaction().execute(async (trx) => {
    const current = await findLeadRow(trx, input.id, true);
    await trx.deleteFrom('leads').where('id', '=', current.id).execute();
    await recordAudit(trx, actor, { action: 'leads.delete', targetType: 'lead', targetId: current.id });
  });
  return { id: input.id, deleted: true };
}
