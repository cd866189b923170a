import './styles.css';
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { call, session, whenUnauthorized } from './api';
import { LiveEvents, type StreamState } from './events';
import { App, type AppContext, ErrorBox, Field, useMutation } from './lib';
import { AgentsView } from './views/agents';
import { KeysView } from './views/keys';
import { MemoryView } from './views/memory';
import { OverviewView } from './views/overview';
import { PostsView } from './views/posts';
import { SettingsView } from './views/settings';
import { SyncView } from './views/sync';
import { TaskDetailView } from './views/task-detail';
import { TasksView } from './views/tasks';
import { WebhooksView } from './views/webhooks';

const VIEWS = [
  ['overview', 'Overview'],
  ['tasks', 'Tasks'],
  ['agents', 'Agents'],
  ['memory', 'Memory'],
  ['keys', 'API keys'],
  ['webhooks', 'Webhooks'],
  ['sync', 'Sync'],
  ['posts', 'Posts'],
  ['settings', 'Settings'],
] as const;

function useRoute(): string[] {
  const read = () => (location.hash.replace(/^#\/?/, '') || 'overview').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function SignIn({ onSignedIn }: { onSignedIn: (key: string, who: { name: string; scopes: string[] }) => void }) {
  const [key, setKey] = useState('');
  const { busy, error, run } = useMutation();
  return (
    <main id="main" class="signin">
      <h1>ORA admin</h1>
      <form
        aria-label="Sign in"
        onSubmit={async (e) => {
          e.preventDefault();
          const who = await run(() => call('keys.whoami', {}, key.trim()));
          if (who) onSignedIn(key.trim(), who);
        }}
      >
        <Field
          label="API key"
          type="password"
          name="key"
          value={key}
          onInput={setKey}
          required
          autoComplete="off"
          hint="An ora_sk_… key. It is kept in this tab's session storage only, and forgotten when the tab closes."
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <ErrorBox error={error} title="Sign-in failed" />
      </form>
    </main>
  );
}

function Shell({ ctx, onSignOut }: { ctx: AppContext & { notice: string }; onSignOut: () => void }) {
  const route = useRoute();
  const [state, setState] = useState<StreamState>(ctx.live.state);
  useEffect(() => ctx.live.onState(setState), [ctx.live]);
  const [view, id] = route;
  const page = (() => {
    switch (view) {
      case 'overview':
        return <OverviewView />;
      case 'tasks':
        return id ? <TaskDetailView key={id} id={id} /> : <TasksView />;
      case 'agents':
        return <AgentsView key={id ?? ''} slug={id ?? null} />;
      case 'memory':
        return <MemoryView />;
      case 'keys':
        return <KeysView />;
      case 'webhooks':
        return <WebhooksView id={id ?? null} />;
      case 'sync':
        return <SyncView />;
      case 'posts':
        return <PostsView key={id ?? ''} id={id ?? null} />;
      case 'settings':
        return <SettingsView onSignOut={onSignOut} />;
      default:
        return (
          <section>
            <h1>Not found</h1>
            <p>
              There is no view <code>{view}</code>. <a href="#/overview">Go to the overview</a>.
            </p>
          </section>
        );
    }
  })();
  return (
    <App.Provider value={ctx}>
      {/* A button, not a link: the hash is the router's. */}
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <p class="brand">ORA admin</p>
        <p class="who">
          Signed in as <strong>{ctx.keyName}</strong>
        </p>
        <p class={`live live-${state}`} role="status" aria-live="polite" data-testid="stream-state">
          Live updates: {state}
        </p>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Main">
        <ul>
          {VIEWS.map(([name, label]) => (
            <li key={name}>
              <a href={`#/${name}`} aria-current={view === name ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <div class="notice" role="status" aria-live="polite">
        {ctx.notice}
      </div>
    </App.Provider>
  );
}

function Root() {
  const [signedIn, setSignedIn] = useState<{ key: string; name: string; scopes: string[] } | null>(null);
  const [checking, setChecking] = useState(Boolean(session.key));
  const [notice, setNotice] = useState('');
  const noticeTimer = useRef<ReturnType<typeof setTimeout>>();

  useEffect(() => {
    const key = session.key;
    if (!key) return;
    call('keys.whoami', {}, key)
      .then((who) => setSignedIn({ key, name: who.name, scopes: who.scopes }))
      .catch(() => session.clear())
      .finally(() => setChecking(false));
  }, []);

  const live = useMemo(() => (signedIn ? new LiveEvents(signedIn.key) : null), [signedIn]);
  useEffect(() => {
    if (!live) return;
    live.start();
    return () => live.stop();
  }, [live]);

  const signOut = () => {
    session.clear();
    setSignedIn(null);
  };
  useEffect(() => whenUnauthorized(signOut), []);

  if (checking) return <p>Checking the saved key…</p>;
  if (!signedIn || !live) {
    return (
      <SignIn
        onSignedIn={(key, who) => {
          session.set(key);
          setSignedIn({ key, name: who.name, scopes: who.scopes });
          if (!location.hash) location.hash = '#/overview';
        }}
      />
    );
  }
  const ctx = {
    live,
    keyName: signedIn.name,
    scopes: signedIn.scopes,
    notice,
    notify: (message: string) => {
      // Cleared first so the same message is announced again; gone after a few seconds.
      setNotice('');
      setTimeout(() => setNotice(message), 50);
      clearTimeout(noticeTimer.current);
      noticeTimer.current = setTimeout(() => setNotice(''), 6000);
    },
  };
  return <Shell ctx={ctx} onSignOut={signOut} />;
}

const root = document.getElementById('root');
if (root) {
  root.textContent = '';
  render(<Root />, root);
}
