import { createHash, randomUUID } from 'node:crypto';
import { type ActionData, type ActionOutput, type MediaItem, OraError } from '@ora/contracts';
import type { MediaRow } from '@ora/db';
import { recordAudit } from '../audit/audit';
import { pageFrom, timeIdAfter } from '../shared/cursor';
import type { Actor, Clock, Db, Logger } from '../shared/deps';
import { mediaRowToMedia } from './media.repository';
import { sniffContentType } from './media-sniff';
import type { MediaStore } from './media-store';

export interface MediaLimits {
  maxBytes: number;
  /** Types accepted, as sniffed from the bytes. */
  allowedTypes: readonly string[];
}

export interface MediaDeps {
  db: Db;
  clock: Clock;
  store: MediaStore;
  limits: MediaLimits;
  log?: Logger;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DATA_URL = /^data:[\w.+-]+\/[\w.+-]+(?:;[\w-]+=[\w.-]+)*;base64,/i;

function invalid(message: string, path = 'data', status?: number): OraError {
  return new OraError({
    code: 'VALIDATION_ERROR',
    message,
    ...(status ? { status } : {}),
    details: { issues: [{ path, message, code: 'invalid_media' }] },
  });
}

/** Decodes strict base64 (or a base64 data: URL), refusing more than `maxBytes` before decoding. */
export function decodeBase64(data: string, maxBytes: number): Buffer {
  const text = data.replace(DATA_URL, '').replace(/\s+/g, '');
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw invalid('data is not valid base64');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const size = (text.length / 4) * 3 - padding;
  if (size > maxBytes) throw invalid(`The file is ${size} bytes; the limit is ${maxBytes}`, 'data', 413);
  if (size === 0) throw invalid('The file is empty');
  return Buffer.from(text, 'base64');
}

export async function uploadMedia(
  deps: MediaDeps,
  actor: Actor,
  input: ActionData<'media.upload'>,
): Promise<MediaItem> {
  const bytes = decodeBase64(input.data, deps.limits.maxBytes);
  const sniffed = sniffContentType(bytes);
  if (!sniffed || !deps.limits.allowedTypes.includes(sniffed)) {
    throw invalid(
      `${sniffed ? `${sniffed} files are` : 'This kind of file is'} not accepted (the type is read from the bytes, not the name or declared type); allowed: ${deps.limits.allowedTypes.join(', ')}`,
    );
  }
  const id = randomUUID();
  await deps.store.put(id, bytes, sniffed);
  try {
    const row = await deps.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('media')
        .values({
          id,
          filename: input.filename,
          content_type: sniffed,
          size_bytes: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          alt: input.alt ?? null,
          storage: deps.store.kind,
          storage_key: id,
          created_by_key_id: actor.keyId,
          created_by_agent_id: actor.agentId,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await recordAudit(trx, actor, {
        action: 'media.upload',
        targetType: 'media',
        targetId: id,
        details: {
          filename: input.filename,
          contentType: sniffed,
          declaredType: input.contentType ?? null,
          sizeBytes: bytes.length,
        },
      });
      return inserted;
    });
    return mediaRowToMedia(row);
  } catch (error) {
    await deps.store.delete(id).catch(() => undefined);
    throw error;
  }
}

export async function listMedia(
  deps: Pick<MediaDeps, 'db'>,
  _actor: Actor,
  input: ActionData<'media.list'>,
): Promise<ActionOutput<'media.list'>> {
  let query = deps.db
    .selectFrom('media')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  const after = timeIdAfter(input.cursor);
  if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(...after)));
  return pageFrom(await query.execute(), input.limit, (row) => [row.created_at.toISOString(), row.id], mediaRowToMedia);
}

async function findMediaRow(db: Db, id: string): Promise<MediaRow> {
  const row = await db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new OraError({ code: 'NOT_FOUND', message: `No media with id ${id}` });
  return row;
}

export async function getMedia(deps: Pick<MediaDeps, 'db'>, _actor: Actor, id: string): Promise<MediaItem> {
  return mediaRowToMedia(await findMediaRow(deps.db, id));
}

export async function deleteMedia(
  deps: MediaDeps,
  actor: Actor,
  input: ActionData<'media.delete'>,
): Promise<ActionOutput<'media.delete'>> {
  const row = await deps.db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('media').selectAll().where('id', '=', input.id).forUpdate().executeTakeFirst();
    if (!current) throw new OraError({ code: 'NOT_FOUND', message: `No media with id ${input.id}` });
    await trx.deleteFrom('media').where('id', '=', current.id).execute();
    await recordAudit(trx, actor, {
      action: 'media.delete',
      targetType: 'media',
      targetId: current.id,
      details: { filename: current.filename },
    });
    return current;
  });
  // After the commit: a crash here leaves an orphan file, never a row without its bytes.
  await deps.store
    .delete(row.storage_key)
    .catch((err) => deps.log?.warn({ err, mediaId: row.id }, 'media file left behind'));
  return { id: row.id, deleted: true };
}

/** The bytes and metadata of a media item for the public `GET /media/:id`, or null. */
export async function readMedia(
  deps: Pick<MediaDeps, 'db' | 'store'>,
  id: string,
): Promise<{ media: MediaRow; data: Buffer } | null> {
  const media = await deps.db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
  if (!media) return null;
  const data = await deps.store.get(media.storage_key);
  return data ? { media, data } : null;
}
