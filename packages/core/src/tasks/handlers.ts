import type { Task } from '@ora/contracts';
import type { Logger } from '../shared/deps';

export interface DependencyResult {
  id: string;
  title: string;
  taskType: string;
  agentSlug: string | null;
  status: string;
  output: unknown;
}

/** What a handler gets: the task, its dependencies' outputs, and the signal that stops it. */
export interface TaskExecution {
  task: Task;
  dependencies: DependencyResult[];
  /** 1 on the first try. */
  attempt: number;
  /** Aborts on cancel, deadline, a lost lease, or shutdown: stop promptly when it fires. */
  signal: AbortSignal;
  log: Logger;
  /** What the task's chain may still spend (null: no limit). */
  chainBudget: { tokensLeft: number | null; costLeft: number | null };
}

export type TaskOutcome =
  | {
      status: 'success';
      output?: unknown;
      tokensUsed?: number;
      cost?: number;
      relatedRunId?: string;
      relatedPostId?: string;
    }
  | { status: 'waiting'; reason: string; output?: unknown; tokensUsed?: number; cost?: number; relatedRunId?: string };

export type TaskHandler = (execution: TaskExecution) => Promise<TaskOutcome>;

/**
 * Who runs what: a handler per task type (system steps such as publishing), and the agent runtime
 * for tasks assigned to an agent whose type has no handler of its own.
 */
export interface TaskHandlers {
  byType: Record<string, TaskHandler>;
  agent?: TaskHandler;
}

/** A failure no retry can fix (bad input, missing configuration): the task fails at once. */
export class NonRetryableTaskError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetryableTaskError';
  }
}
