import { action } from './action';
import { AuditListInput, AuditListOutput } from './audit';

/** The `audit.*` actions: reading the log every mutation writes. */
export const auditActions = {
  'audit.list': action({
    summary: 'The audit log, newest first: every mutation with its key, time, address and request id',
    scope: 'audit:read',
    mutates: false,
    input: AuditListInput,
    output: AuditListOutput,
  }),
};
