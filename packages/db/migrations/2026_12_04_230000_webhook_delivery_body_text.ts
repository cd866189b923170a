import { type Kysely, sql } from 'kysely';

// A delivery's payload is the body it sends, signed as stored, the same on every attempt. As json
// (the text kept as written) rather than jsonb, the fan-out stores the body without building a
// binary document, the claim reads it back without rendering one, and the body goes out compact
// (jsonb renders a space after every ':' and ','). Nothing queries into it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table webhook_deliveries alter column payload type json using payload::json`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table webhook_deliveries alter column payload type jsonb using payload::jsonb`.execute(db);
}
