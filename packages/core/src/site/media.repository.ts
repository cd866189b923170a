import type { MediaItem } from '@ora/contracts';
import type { MediaRow } from '@ora/db';

export function mediaRowToMedia(row: MediaRow): MediaItem {
  return {
    id: row.id,
    filename: row.filename,
    contentType: row.content_type,
    sizeBytes: row.size_bytes,
    sha256: row.sha256,
    alt: row.alt,
    url: `/media/${row.id}`,
    storage: row.storage,
    createdByAgentId: row.created_by_agent_id,
    createdAt: row.created_at.toISOString(),
  };
}
