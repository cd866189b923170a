/**
 * @ora/contracts: every schema ORA's API speaks, as Zod. The single source of truth for types,
 * validation and the OpenAPI document. Imports only zod.
 */
export * from './actions';
export * from './common';
export * from './envelope';
export * from './errors';
export * from './events';
export * from './keys';
export * from './scopes';
