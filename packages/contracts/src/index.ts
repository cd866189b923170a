/**
 * @ora/contracts: every schema ORA's API speaks, as Zod. The single source of truth for types,
 * validation and the OpenAPI document. Imports only zod.
 */
export * from './actions';
export * from './agents';
export * from './analytics';
export * from './audit';
export * from './common';
export * from './conversations';
export * from './desktop';
export * from './envelope';
export * from './errors';
export * from './events';
export * from './keys';
export * from './leads';
export * from './media';
export * from './memory';
export * from './posts';
export * from './scopes';
export * from './settings';
export * from './sync';
export * from './tasks';
export * from './webhooks';
