import type { ActionData, ActionName, ActionOutput } from '@ora/contracts';
import type { Actor, AuthenticatedKey } from '@ora/core';
import type { FastifyBaseLogger } from 'fastify';
import type { System } from '../system';

/** What an action handler gets besides its validated data. */
export interface ActionContext {
  system: System;
  actor: Actor;
  key: AuthenticatedKey;
  log: FastifyBaseLogger;
}

export type ActionHandler<A extends ActionName> = (ctx: ActionContext, data: ActionData<A>) => Promise<ActionOutput<A>>;

/** Handlers for some actions (one domain's); `actions/index.ts` checks every action has one. */
export type ActionHandlers<Names extends ActionName> = { [A in Names]: ActionHandler<A> };
