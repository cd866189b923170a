import type { ActionInput, ActionName, ActionOutput } from '@ora/contracts';

const KEY_STORAGE = 'ora.admin.key';

/** The key lives in session storage only: closing the tab signs out, and nothing is written to disk. */
export const session = {
  get key(): string | null {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  set(key: string) {
    sessionStorage.setItem(KEY_STORAGE, key);
  },
  clear() {
    sessionStorage.removeItem(KEY_STORAGE);
  },
};

/** An error answer of the action API (or a network failure), with everything needed to show it. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly requestId: string | null,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let onUnauthorized: (() => void) | null = null;
/** Called when the key stops working (revoked, expired): the app goes back to sign-in. */
export function whenUnauthorized(handler: () => void) {
  onUnauthorized = handler;
}

/** `POST /api/ora` with the session's key (or the one given, to check it at sign-in). */
export async function call<A extends ActionName>(
  action: A,
  data?: ActionInput<A>,
  key: string | null = session.key,
): Promise<ActionOutput<A>> {
  let response: Response;
  try {
    response = await fetch('/api/ora', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: JSON.stringify({ action, data: data ?? {} }),
    });
  } catch (error) {
    throw new ApiError('NETWORK_ERROR', `The server did not answer: ${(error as Error).message}`, 0, null);
  }
  const requestId = response.headers.get('x-request-id');
  let body: { data?: unknown; error?: { code: string; message: string; details?: unknown } };
  try {
    body = await response.json();
  } catch {
    throw new ApiError(
      'BAD_RESPONSE',
      `The server answered ${response.status} without JSON`,
      response.status,
      requestId,
    );
  }
  if (!response.ok || body.error) {
    const error = body.error ?? { code: 'UNKNOWN', message: `HTTP ${response.status}` };
    if (response.status === 401 && key === session.key) onUnauthorized?.();
    throw new ApiError(error.code, error.message, response.status, requestId, error.details);
  }
  return body.data as ActionOutput<A>;
}
