import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface WorkflowTable {
  id: Generated<string>;
  name: string;
  /** A new version is a new row; (name, version) is unique. */
  version: Generated<number>;
  description: string | null;
  definition: unknown;
  is_active: Generated<boolean>;
  created_at: Generated<Date>;
}
export type WorkflowRow = Selectable<WorkflowTable>;
export type NewWorkflowRow = Insertable<WorkflowTable>;
export type WorkflowRowUpdate = Updateable<WorkflowTable>;

export interface ScheduleTable {
  id: Generated<string>;
  name: string;
  cron: string;
  /** IANA time zone the cron is read in. */
  timezone: Generated<string>;
  overlap_policy: Generated<'skip' | 'queue_one' | 'allow'>;
  /** What each run creates (a task or a workflow with its input). */
  template: unknown;
  is_active: Generated<boolean>;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_task_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type ScheduleRow = Selectable<ScheduleTable>;
export type NewScheduleRow = Insertable<ScheduleTable>;
export type ScheduleRowUpdate = Updateable<ScheduleTable>;

export interface WorkflowTables {
  workflows: WorkflowTable;
  schedules: ScheduleTable;
}
