import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface ApiKeyTable {
  id: Generated<string>;
  name: string;
  description: string | null;
  key_hash: string;
  key_prefix: string;
  scopes: Generated<string[]>;
  rate_limit_per_minute: Generated<number>;
  rate_limit_per_day: Generated<number>;
  total_requests: Generated<string>;
  last_used_at: Date | null;
  last_used_ip: string | null;
  allowed_ips: string[] | null;
  expires_at: Date | null;
  is_active: Generated<boolean>;
  revoked_at: Date | null;
  revoked_reason: string | null;
  agent_id: string | null;
  created_by_key_id: string | null;
  rotated_from_key_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export type ApiKeyRow = Selectable<ApiKeyTable>;
export type NewApiKeyRow = Insertable<ApiKeyTable>;
export type ApiKeyRowUpdate = Updateable<ApiKeyTable>;

export interface AuditLogTable {
  id: Generated<string>;
  created_at: Generated<Date>;
  key_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: unknown | null;
}
export type AuditLogRow = Selectable<AuditLogTable>;

export interface IdempotencyKeyTable {
  key_id: string;
  idempotency_key: string;
  action: string;
  request_hash: string;
  status: 'running' | 'completed';
  response_status: number | null;
  response_body: unknown | null;
  created_at: Generated<Date>;
  completed_at: Date | null;
  expires_at: Date;
}
export type IdempotencyKeyRow = Selectable<IdempotencyKeyTable>;

export interface KeyTables {
  api_keys: ApiKeyTable;
  audit_log: AuditLogTable;
  idempotency_keys: IdempotencyKeyTable;
}
