import type { PGlite } from '@electric-sql/pglite';
import { type Kysely, sql } from 'kysely';

/**
 * A vector in pgvector's binary wire format (what `vector_recv` reads: int16 dimensions, int16
 * unused, then big-endian float4s). Passed as a query parameter it is sent in binary, by
 * node-postgres (any Uint8Array) and by PGlite (once `registerPgliteVectorType` ran), which parses
 * about five times faster than the `[0.1,0.2,...]` text form.
 */
export function encodeVector(vector: Float32Array | readonly number[]): Uint8Array {
  const view = new DataView(new ArrayBuffer(4 + 4 * vector.length));
  view.setInt16(0, vector.length);
  view.setInt16(2, 0);
  for (let i = 0; i < vector.length; i++) view.setFloat32(4 + 4 * i, vector[i] as number);
  return new Uint8Array(view.buffer);
}

/** Where pgvector is installed: its schema (for qualified names) and the vector type's oid. */
export interface VectorType {
  schema: string;
  oid: number;
}

export async function findVectorType(db: Kysely<any>): Promise<VectorType | null> {
  const { rows } = await sql<{ schema: string; oid: number }>`
    select n.nspname as schema, t.oid::int as oid
    from pg_extension e
    join pg_namespace n on n.oid = e.extnamespace
    join pg_type t on t.typname = 'vector' and t.typnamespace = e.extnamespace
    where e.extname = 'vector'
  `.execute(db);
  const row = rows[0];
  return row ? { schema: row.schema, oid: Number(row.oid) } : null;
}

/**
 * PGlite serialises a parameter by the type Postgres describes for it, and has no serializer for
 * the extension's type (it would send `String(value)`). This one passes binary vectors through
 * (PGlite binds any ArrayBufferView in binary format) and writes arrays as pgvector text.
 */
export function registerPgliteVectorType(pglite: PGlite, type: VectorType): void {
  const serializers = pglite.serializers as Record<number, (value: unknown) => unknown>;
  serializers[type.oid] = (value: unknown) =>
    ArrayBuffer.isView(value) || typeof value === 'string'
      ? value
      : `[${Array.from(value as ArrayLike<number>).join(',')}]`;
}
