import { OraClientError } from '@ora/client';
import { ErrorEnvelope, headers, type OraEvent } from '@ora/contracts';
import type { Connection } from './connection';
import type { CliIo } from './io';

export interface EventStreamOptions {
  /** `types`, `taskId`, `agentId` query parameters of GET /api/ora/events. */
  query: Record<string, string>;
  /** Resume after this event (its seq). */
  lastEventId?: string | undefined;
  signal: AbortSignal;
  /** The server accepted the stream (before any event). */
  onOpen?: () => void;
}

/**
 * Reads `GET /api/ora/events` (Server-Sent Events) and yields each event. Ends when the server ends
 * the stream; throws OraClientError when the server refuses it (bad key, missing scope).
 */
export async function* readEventStream(
  connection: Connection,
  io: CliIo,
  options: EventStreamOptions,
): AsyncGenerator<OraEvent> {
  const query = new URLSearchParams(options.query).toString();
  const response = await (io.fetch ?? fetch)(`${connection.url}/api/ora/events${query ? `?${query}` : ''}`, {
    headers: {
      authorization: `Bearer ${connection.apiKey ?? ''}`,
      accept: 'text/event-stream',
      ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
    },
    signal: options.signal,
  });
  if (!response.ok || !response.body) {
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const envelope = ErrorEnvelope.safeParse(body);
    throw new OraClientError(
      envelope.success
        ? envelope.data.error
        : { code: 'INTERNAL_ERROR', message: `HTTP ${response.status} from the event stream: ${text.slice(0, 200)}` },
      response.status,
      response.headers.get(headers.requestId),
    );
  }
  options.onOpen?.();
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data) yield JSON.parse(data) as OraEvent;
      }
    }
  } finally {
    reader.releaseLock();
    await response.body.cancel().catch(() => {});
  }
}
