import { type ActionData, defaultSiteSettings, parseOrThrow, SiteSettings } from '@ora/contracts';
import { recordAudit } from '../audit/audit';
import type { Actor, Clock, Db, DbOrTx } from '../shared/deps';

export interface SettingsDeps {
  db: Db;
  clock: Clock;
}

export interface StoredSettings {
  settings: SiteSettings;
  updatedAt: string | null;
  updatedByKeyId: string | null;
}

/** Stored values over the defaults; a stored value the schema no longer accepts falls back to its default. */
function withDefaults(value: unknown): SiteSettings {
  const merged: Record<string, unknown> = { ...defaultSiteSettings };
  if (value && typeof value === 'object') {
    for (const [name, field] of Object.entries(SiteSettings.shape)) {
      const stored = (value as Record<string, unknown>)[name];
      if (stored === undefined) continue;
      const parsed = (field as { safeParse(v: unknown): { success: boolean; data?: unknown } }).safeParse(stored);
      if (parsed.success) merged[name] = parsed.data;
    }
  }
  return merged as SiteSettings;
}

/** The site settings, defaults where never set. */
export async function getSettings(deps: { db: DbOrTx }): Promise<StoredSettings> {
  const row = await deps.db.selectFrom('site_settings').selectAll().where('id', '=', 'site').executeTakeFirst();
  return {
    settings: withDefaults(row?.value),
    updatedAt: row ? row.updated_at.toISOString() : null,
    updatedByKeyId: row?.updated_by_key_id ?? null,
  };
}

/** Changes the settings given, validates the whole, and keeps the rest. */
export async function setSettings(
  deps: SettingsDeps,
  actor: Actor,
  patch: ActionData<'settings.set'>,
): Promise<StoredSettings> {
  return deps.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('site_settings')
      .values({ id: 'site', value: JSON.stringify({}) })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    const row = await trx
      .selectFrom('site_settings')
      .selectAll()
      .where('id', '=', 'site')
      .forUpdate()
      .executeTakeFirstOrThrow();
    const changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
    const next = parseOrThrow(SiteSettings, { ...withDefaults(row.value), ...patch }, 'settings');
    const updated = await trx
      .updateTable('site_settings')
      .set({ value: JSON.stringify(next), updated_at: deps.clock.now(), updated_by_key_id: actor.keyId })
      .where('id', '=', 'site')
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordAudit(trx, actor, {
      action: 'settings.set',
      targetType: 'site_settings',
      targetId: 'site',
      details: { changed },
    });
    return {
      settings: next,
      updatedAt: updated.updated_at.toISOString(),
      updatedByKeyId: updated.updated_by_key_id,
    };
  });
}

/** Where the post lives on the public site, when the site's address is known. */
export function postUrl(settings: Pick<SiteSettings, 'siteUrl'>, slug: string): string | null {
  return settings.siteUrl ? `${settings.siteUrl.replace(/\/+$/, '')}/posts/${slug}` : null;
}
