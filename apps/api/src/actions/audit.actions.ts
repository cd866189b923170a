import { listAudit } from '@ora/core';
import type { ActionHandlers } from './context';

export const auditActions: ActionHandlers<'audit.list'> = {
  'audit.list': (ctx, data) => listAudit(ctx.system.database.db, data),
};
