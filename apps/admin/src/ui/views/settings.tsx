import type { SiteSettings } from '@ora/contracts';
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { ErrorBox, Field, PageTitle, useAction, useApp, useMutation, when } from '../lib';

type Form = Record<'siteName' | 'siteUrl' | 'description' | 'language' | 'defaultAuthor' | 'brandVoice', string>;

const formOf = (s: SiteSettings): Form => ({
  siteName: s.siteName,
  siteUrl: s.siteUrl ?? '',
  description: s.description,
  language: s.language,
  defaultAuthor: s.defaultAuthor ?? '',
  brandVoice: s.brandVoice ?? '',
});

export function SettingsView({ onSignOut }: { onSignOut: () => void }) {
  const { notify, keyName, scopes, live } = useApp();
  const settings = useAction('settings.get', {}, []);
  const [form, setForm] = useState<Form | null>(null);
  const { busy, error, run } = useMutation();
  useEffect(() => {
    if (settings.data) setForm(formOf(settings.data.settings));
  }, [settings.data]);
  const set = (field: keyof Form) => (value: string) => form && setForm({ ...form, [field]: value });
  return (
    <section>
      <PageTitle>Settings</PageTitle>
      <ErrorBox error={settings.error} />
      {form && settings.data ? (
        <form
          class="panel"
          aria-labelledby="site-settings-title"
          onSubmit={async (e) => {
            e.preventDefault();
            const out = await run(() =>
              call('settings.set', {
                siteName: form.siteName,
                siteUrl: form.siteUrl.trim() || null,
                description: form.description,
                language: form.language,
                defaultAuthor: form.defaultAuthor.trim() || null,
                brandVoice: form.brandVoice.trim() || null,
              }),
            );
            if (out) {
              notify('Settings saved');
              settings.setData(out);
            }
          }}
        >
          <h2 id="site-settings-title">Site</h2>
          <p class="muted">Last changed {when(settings.data.updatedAt)}</p>
          <Field label="Site name" value={form.siteName} onInput={set('siteName')} required />
          <Field label="Site URL" type="url" value={form.siteUrl} onInput={set('siteUrl')} />
          <Field label="Description" multiline rows={2} value={form.description} onInput={set('description')} />
          <Field label="Language" value={form.language} onInput={set('language')} hint="e.g. en or en-GB" />
          <Field label="Default author" value={form.defaultAuthor} onInput={set('defaultAuthor')} />
          <Field
            label="Brand voice"
            multiline
            rows={4}
            value={form.brandVoice}
            onInput={set('brandVoice')}
            hint="How the Writer should sound"
          />
          <button type="submit" disabled={busy}>
            Save settings
          </button>
          <ErrorBox error={error} />
        </form>
      ) : null}
      <div class="panel">
        <h2>This session</h2>
        <p>
          Signed in as <strong>{keyName}</strong> with scopes <code>{scopes.join(', ')}</code>. The key is kept in this
          tab's session storage only. Live updates: {live.state}.
        </p>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </section>
  );
}
