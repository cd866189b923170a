import { type ActionData, type ActionOutput, OraError, ScheduleTemplate } from '@ora/contracts';
import type { ScheduleRow } from '@ora/db';
import { CronExpressionParser } from 'cron-parser';
import { recordAudit } from '../audit/audit';
import { type Actor, systemActor } from '../shared/deps';
import { terminalStatusList } from '../tasks/state';
import { createTaskGraph, type TaskDeps } from '../tasks/tasks.service';
import { runWorkflow } from '../workflows/workflows.service';

type Schedule = ActionOutput<'schedules.create'>;

/** The next time a cron expression fires after `after`, read in its time zone. */
export function nextRun(cron: string, timezone: string, after: Date): Date {
  try {
    return CronExpressionParser.parse(cron, { currentDate: after, tz: timezone }).next().toDate();
  } catch (error) {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `Invalid schedule: ${(error as Error).message} (cron "${cron}", timezone "${timezone}")`,
      details: { issues: [{ path: 'cron', message: (error as Error).message, code: 'invalid_cron' }] },
    });
  }
}

function validTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new OraError({
      code: 'VALIDATION_ERROR',
      message: `Unknown timezone "${timezone}": use an IANA name such as Europe/Berlin or UTC`,
      details: { issues: [{ path: 'timezone', message: 'unknown timezone', code: 'invalid_timezone' }] },
    });
  }
}

function rowToSchedule(row: ScheduleRow): Schedule {
  return {
    id: row.id,
    name: row.name,
    cron: row.cron,
    timezone: row.timezone,
    overlapPolicy: row.overlap_policy,
    template: ScheduleTemplate.parse(row.template),
    isActive: row.is_active,
    nextRunAt: row.next_run_at?.toISOString() ?? null,
    lastRunAt: row.last_run_at?.toISOString() ?? null,
    lastTaskId: row.last_task_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

async function findSchedule(deps: TaskDeps, id: string): Promise<ScheduleRow> {
  const row = await deps.db.selectFrom('schedules').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new OraError({ code: 'NOT_FOUND', message: `No schedule with id ${id}` });
  return row;
}

export async function createSchedule(
  deps: TaskDeps,
  actor: Actor,
  input: ActionData<'schedules.create'>,
): Promise<Schedule> {
  validTimezone(input.timezone);
  const next = nextRun(input.cron, input.timezone, deps.clock.now());
  const row = await deps.db.transaction().execute(async (trx) => {
    const taken = await trx.selectFrom('schedules').select('id').where('name', '=', input.name).executeTakeFirst();
    if (taken)
      throw new OraError({ code: 'CONFLICT', message: `A schedule named "${input.name}" exists (${taken.id})` });
    const created = await trx
      .insertInto('schedules')
      .values({
        name: input.name,
        cron: input.cron,
        timezone: input.timezone,
        overlap_policy: input.overlapPolicy,
        template: JSON.stringify(input.template),
        is_active: input.isActive,
        next_run_at: input.isActive ? next : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, { action: 'schedules.create', targetType: 'schedule', targetId: created.id });
    return created;
  });
  return rowToSchedule(row);
}

export async function listSchedules(deps: TaskDeps): Promise<ActionOutput<'schedules.list'>> {
  const rows = await deps.db.selectFrom('schedules').selectAll().orderBy('name').execute();
  return { items: rows.map(rowToSchedule) };
}

export async function updateSchedule(
  deps: TaskDeps,
  actor: Actor,
  input: ActionData<'schedules.update'>,
): Promise<Schedule> {
  const current = await findSchedule(deps, input.id);
  const cron = input.cron ?? current.cron;
  const timezone = input.timezone ?? current.timezone;
  validTimezone(timezone);
  const isActive = input.isActive ?? current.is_active;
  const next = nextRun(cron, timezone, deps.clock.now());
  const row = await deps.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('schedules')
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        cron,
        timezone,
        ...(input.overlapPolicy !== undefined ? { overlap_policy: input.overlapPolicy } : {}),
        ...(input.template !== undefined ? { template: JSON.stringify(input.template) } : {}),
        is_active: isActive,
        next_run_at: isActive ? next : null,
        updated_at: deps.clock.now(),
      })
      .where('id', '=', current.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, { action: 'schedules.update', targetType: 'schedule', targetId: current.id });
    return updated;
  });
  return rowToSchedule(row);
}

export async function deleteSchedule(deps: TaskDeps, actor: Actor, id: string): Promise<{ deleted: boolean }> {
  return deps.db.transaction().execute(async (trx) => {
    const deleted = await trx.deleteFrom('schedules').where('id', '=', id).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0)
      throw new OraError({ code: 'NOT_FOUND', message: `No schedule with id ${id}` });
    await recordAudit(trx, actor, { action: 'schedules.delete', targetType: 'schedule', targetId: id });
    return { deleted: true };
  });
}

async function previousRunActive(deps: TaskDeps, row: ScheduleRow): Promise<boolean> {
  if (!row.last_task_id) return false;
  const active = await deps.db
    .selectFrom('agent_tasks')
    .select('id')
    .where('chain_id', '=', row.last_task_id)
    .where('status', 'not in', terminalStatusList)
    .limit(1)
    .executeTakeFirst();
  return active !== undefined;
}

async function startRun(deps: TaskDeps, actor: Actor, row: ScheduleRow): Promise<string> {
  const template = ScheduleTemplate.parse(row.template);
  const created =
    template.kind === 'task'
      ? await createTaskGraph(deps, actor, [template.step], {
          source: 'schedule',
          chain: { title: `schedule ${row.name}` },
        })
      : await runWorkflow(deps, actor, { name: template.name, input: template.input, source: 'schedule' });
  await deps.db
    .updateTable('schedules')
    .set({ last_task_id: created.chainId, last_run_at: deps.clock.now(), updated_at: deps.clock.now() })
    .where('id', '=', row.id)
    .execute();
  return created.chainId;
}

/**
 * Runs a schedule now. With `skip`, a run that would overlap an active one is skipped; with
 * `queue_one` it waits (the schedule stays due until the active run ends, however many ticks pass);
 * with `allow` runs overlap.
 */
export async function triggerSchedule(
  deps: TaskDeps,
  actor: Actor,
  id: string,
): Promise<ActionOutput<'schedules.trigger'>> {
  const row = await findSchedule(deps, id);
  if (row.overlap_policy !== 'allow' && (await previousRunActive(deps, row))) {
    return { schedule: rowToSchedule(row), chainId: null, skipped: 'the previous run is still active' };
  }
  const chainId = await startRun(deps, actor, row);
  await deps.db
    .insertInto('audit_log')
    .values({
      key_id: actor.keyId,
      action: 'schedules.trigger',
      target_type: 'schedule',
      target_id: id,
      ip: actor.ip,
      request_id: actor.requestId,
    })
    .execute();
  return { schedule: rowToSchedule(await findSchedule(deps, id)), chainId, skipped: null };
}

/** Starts every due schedule once (safe from several processes: each due tick is claimed once). */
export async function runDueSchedules(deps: TaskDeps): Promise<number> {
  const now = deps.clock.now();
  const due = await deps.db
    .selectFrom('schedules')
    .selectAll()
    .where('is_active', '=', true)
    .where('next_run_at', '<=', now)
    .orderBy('next_run_at')
    .limit(50)
    .execute();
  let started = 0;
  for (const row of due) {
    const active = await previousRunActive(deps, row);
    if (active && row.overlap_policy === 'queue_one') continue; // stays due: one run waits
    const claimed = await deps.db
      .updateTable('schedules')
      .set({ next_run_at: nextRun(row.cron, row.timezone, now), updated_at: now })
      .where('id', '=', row.id)
      .where('next_run_at', '=', row.next_run_at)
      .returning('id')
      .executeTakeFirst();
    if (!claimed || (active && row.overlap_policy === 'skip')) continue;
    await startRun(deps, systemActor, row);
    started++;
  }
  return started;
}
