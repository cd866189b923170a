import {
  agentsStatus,
  approveTask,
  cancelTask,
  createSchedule,
  createTasks,
  deleteSchedule,
  getTask,
  getWorkflow,
  listSchedules,
  listTasks,
  listWorkflows,
  retryTask,
  runWorkflow,
  systemClock,
  type TaskDeps,
  taskActivity,
  taskStats,
  triggerSchedule,
  updateSchedule,
  updateTask,
} from '@ora/core';
import type { ActionContext, ActionHandlers } from './context';

const taskDeps = (ctx: ActionContext): TaskDeps => ({
  db: ctx.system.database.db,
  clock: systemClock,
  dispatch: ctx.system.tasks.dispatcher,
  graphs: ctx.system.tasks.graphs,
});

export const tasksActions: ActionHandlers<
  | 'tasks.create'
  | 'tasks.list'
  | 'tasks.get'
  | 'tasks.update'
  | 'tasks.cancel'
  | 'tasks.retry'
  | 'tasks.approve'
  | 'tasks.stats'
  | 'tasks.activity'
  | 'agents.status'
  | 'workflows.list'
  | 'workflows.get'
  | 'workflows.run'
  | 'schedules.create'
  | 'schedules.list'
  | 'schedules.update'
  | 'schedules.delete'
  | 'schedules.trigger'
> = {
  'tasks.create': (ctx, data) => createTasks(taskDeps(ctx), ctx.actor, data),
  'tasks.list': (ctx, data) => listTasks(taskDeps(ctx), ctx.actor, data),
  'tasks.get': (ctx, data) => getTask(taskDeps(ctx), ctx.actor, data.id),
  'tasks.update': (ctx, data) => updateTask(taskDeps(ctx), ctx.actor, data),
  'tasks.cancel': (ctx, data) => cancelTask(taskDeps(ctx), ctx.actor, data),
  'tasks.retry': (ctx, data) => retryTask(taskDeps(ctx), ctx.actor, data),
  'tasks.approve': (ctx, data) => approveTask(taskDeps(ctx), ctx.actor, data),
  'tasks.stats': (ctx, data) => taskStats({ db: ctx.system.database.db, clock: systemClock }, ctx.actor, data),
  'tasks.activity': (ctx, data) =>
    taskActivity(
      { db: ctx.system.database.db, encryptionKey: ctx.system.memory.deps.memory.settings.encryptionKey },
      ctx.actor,
      data,
    ),
  'agents.status': (ctx) => agentsStatus(taskDeps(ctx), ctx.actor),
  'workflows.list': (ctx) => listWorkflows(taskDeps(ctx)),
  'workflows.get': (ctx, data) => getWorkflow(taskDeps(ctx), data),
  'workflows.run': (ctx, data) => runWorkflow(taskDeps(ctx), ctx.actor, data),
  'schedules.create': (ctx, data) => createSchedule(taskDeps(ctx), ctx.actor, data),
  'schedules.list': (ctx) => listSchedules(taskDeps(ctx)),
  'schedules.update': (ctx, data) => updateSchedule(taskDeps(ctx), ctx.actor, data),
  'schedules.delete': (ctx, data) => deleteSchedule(taskDeps(ctx), ctx.actor, data.id),
  'schedules.trigger': (ctx, data) => triggerSchedule(taskDeps(ctx), ctx.actor, data.id),
};
