import type { ActionInput, ActionName, ActionOutput, OraEvent } from '@ora/contracts';
import { type ComponentChildren, createContext } from 'preact';
import { useCallback, useContext, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, call } from './api';
import type { LiveEvents } from './events';

export interface AppContext {
  live: LiveEvents;
  keyName: string;
  scopes: readonly string[];
  /** Announces a result politely (a live region) and shows it. */
  notify(message: string): void;
}
export const App = createContext<AppContext | null>(null);
export const useApp = () => useContext(App) as AppContext;

/** Runs an action and keeps its answer; re-runs when `deps` change or when a live event matches. */
export function useAction<A extends ActionName>(
  action: A,
  data: ActionInput<A> | null,
  deps: unknown[],
  refreshOn?: (event: OraEvent) => boolean,
  options: {
    /** Reload again this long after a matching event (what follows an event, e.g. its webhook deliveries, emits none). */
    followUpMs?: number[];
    /** Reload every this many ms while it returns true for the answer (work in flight that emits no event). */
    pollWhile?: (answer: ActionOutput<A>) => boolean;
  } = {},
) {
  const { live } = useApp();
  const [result, setResult] = useState<ActionOutput<A> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const dataRef = useRef(data);
  dataRef.current = data;
  const generation = useRef(0);
  const reload = useCallback(async () => {
    if (dataRef.current === null) {
      setLoading(false);
      return;
    }
    const mine = ++generation.current;
    setLoading(true);
    try {
      const answer = await call(action, dataRef.current);
      if (mine === generation.current) {
        setResult(answer);
        setError(null);
      }
    } catch (e) {
      if (mine === generation.current) setError(e);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, [action]);
  useEffect(() => {
    void reload();
  }, deps);
  const refreshRef = useRef(refreshOn);
  refreshRef.current = refreshOn;
  const followUps = (options.followUpMs ?? []).join();
  useEffect(() => {
    let timers: Array<ReturnType<typeof setTimeout>> = [];
    const unsubscribe = live.subscribe((event) => {
      if (!refreshRef.current?.(event)) return;
      // A burst of events (a workflow finishing) becomes one reload (and one set of follow-ups).
      for (const timer of timers) clearTimeout(timer);
      timers = [150, ...(followUps ? followUps.split(',').map(Number) : [])].map((ms) =>
        setTimeout(() => void reload(), ms),
      );
    });
    const unsubscribeResume = live.onResume(() => void reload());
    return () => {
      unsubscribe();
      unsubscribeResume();
      for (const timer of timers) clearTimeout(timer);
    };
  }, [live, reload, followUps]);
  const polling = result !== null && options.pollWhile ? options.pollWhile(result) : false;
  useEffect(() => {
    if (!polling) return;
    const timer = setInterval(() => void reload(), 2000);
    return () => clearInterval(timer);
  }, [polling, reload]);
  return { data: result, error, loading, reload, setData: setResult };
}

/** Runs a mutation from a button or form: keeps the busy state and the error to show. */
export function useMutation() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await work();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run, setError };
}

export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  const details = api?.details;
  return (
    <div class="error" role="alert">
      <p>
        <strong>{title ?? 'The server refused'}</strong>
        {api ? (
          <>
            {' '}
            <code>{api.code}</code>
            {api.status ? ` (HTTP ${api.status})` : ''}
          </>
        ) : null}
        : {(error as Error).message ?? String(error)}
      </p>
      {details ? <pre class="json">{JSON.stringify(details, null, 2)}</pre> : null}
      {api?.requestId ? <p class="muted">Request id {api.requestId}</p> : null}
    </div>
  );
}

export function Json({ value, label }: { value: unknown; label?: string }) {
  if (value === undefined) return null;
  return (
    <figure class="json-box">
      <figcaption class="sr-only">{label ?? 'JSON'}</figcaption>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard to be scrolled */}
      <pre class="json" tabIndex={0}>
        {typeof value === 'string' ? value : JSON.stringify(value, null, 2)}
      </pre>
    </figure>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

/** A table that scrolls sideways on a narrow screen; the scroller is focusable so a keyboard can scroll it. */
export function Table({ caption, head, children }: { caption: string; head: string[]; children: ComponentChildren }) {
  return (
    <Scroller label={caption}>
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </Scroller>
  );
}

/** A box that scrolls sideways on a narrow screen; focusable, so a keyboard can scroll it. */
export function Scroller({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard to be scrolled
    <section class="scroller" tabIndex={0} aria-label={label}>
      {children}
    </section>
  );
}

type FieldProps = {
  label: string;
  hint?: string;
  value: string;
  onInput: (value: string) => void;
  type?: string;
  required?: boolean;
  multiline?: boolean;
  rows?: number;
  name?: string;
  autoComplete?: string;
  placeholder?: string;
};
export function Field(props: FieldProps) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  const common = {
    id,
    name: props.name,
    value: props.value,
    required: props.required,
    placeholder: props.placeholder,
    'aria-describedby': hintId,
    onInput: (e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...common} rows={props.rows ?? 4} />
      ) : (
        <input {...common} type={props.type ?? 'text'} autoComplete={props.autoComplete ?? 'off'} />
      )}
      {props.hint ? (
        <small id={hintId} class="muted">
          {props.hint}
        </small>
      ) : null}
    </div>
  );
}

export function Select(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: Array<[string, string]>;
  name?: string;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        value={props.value}
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Check(props: { label: string; checked: boolean; onChange: (checked: boolean) => void }) {
  const id = useId();
  return (
    <div class="check">
      <input
        id={id}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label for={id}>{props.label}</label>
    </div>
  );
}

/** A destructive button that asks again in place (no modal), so keyboard and screen readers stay put. */
export function ConfirmButton(props: {
  label: string;
  confirmLabel: string;
  onConfirm: () => void | Promise<void>;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button type="button" class="danger" disabled={props.disabled} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <span class="confirm">
      <button
        type="button"
        class="danger"
        ref={confirmRef}
        onClick={async () => {
          setAsking(false);
          await props.onConfirm();
        }}
      >
        {props.confirmLabel}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');
export const usd = (n: number | null | undefined) => (n === null || n === undefined ? '—' : `$${n.toFixed(4)}`);
export const num = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toLocaleString());
export const list = (text: string) =>
  text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);

export function parseJson(text: string, what: string): Record<string, unknown> {
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch {}
  throw new Error(`${what} must be a JSON object, e.g. {"topic": "AI safety"}`);
}

/** A page's heading, focused when the view opens so a screen reader announces where it is. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 tabIndex={-1} ref={ref} class="page-title">
      {children}
    </h1>
  );
}
