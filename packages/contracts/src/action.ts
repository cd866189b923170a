import type { z } from 'zod';

/**
 * One action of `POST /api/ora`: its schemas, the scope a key needs (null: any valid key),
 * whether it changes state (mutations are audited and accept an Idempotency-Key), and which
 * rate-limit bucket it counts against.
 */
export interface ActionDefinition<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  summary: string;
  scope: string | null;
  mutates: boolean;
  limitGroup: 'default' | 'sync';
  input: I;
  output: O;
}

export function action<I extends z.ZodType, O extends z.ZodType>(
  def: Omit<ActionDefinition<I, O>, 'limitGroup'> & { limitGroup?: 'default' | 'sync' },
): ActionDefinition<I, O> {
  return { limitGroup: 'default', ...def };
}
