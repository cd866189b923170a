import type { ApiKey } from '@ora/contracts';
import type { ApiKeyRow } from '@ora/db';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function keyRowToApiKey(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    prefix: row.key_prefix,
    scopes: row.scopes,
    agentId: row.agent_id,
    allowedIps: row.allowed_ips,
    rateLimitPerMinute: row.rate_limit_per_minute,
    rateLimitPerDay: row.rate_limit_per_day,
    expiresAt: iso(row.expires_at),
    isActive: row.is_active,
    revokedAt: iso(row.revoked_at),
    revokedReason: row.revoked_reason,
    totalRequests: Number(row.total_requests),
    lastUsedAt: iso(row.last_used_at),
    lastUsedIp: row.last_used_ip,
    rotatedFromKeyId: row.rotated_from_key_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
