import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { OraError } from '@ora/contracts';

/** How an encrypted memory's content is stored in its jsonb column. */
export interface EncryptedEnvelope {
  $ora: 'enc:v1';
  alg: 'A256GCM';
  iv: string;
  tag: string;
  data: string;
}

/** What is encrypted: the content and the summary together (both are withheld from indexing). */
export interface SealedFields {
  content: unknown;
  summary: string | null;
}

export function isEnvelope(value: unknown): value is EncryptedEnvelope {
  return typeof value === 'object' && value !== null && (value as { $ora?: unknown }).$ora === 'enc:v1';
}

/**
 * AES-256-GCM with a fresh 96-bit IV per write. The associated data names the memory's slot
 * (owner, type, key), so a ciphertext copied onto another memory fails to decrypt.
 */
export function seal(key: Buffer, fields: SealedFields, slot: string): EncryptedEnvelope {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(slot, 'utf8'));
  const data = Buffer.concat([cipher.update(JSON.stringify(fields), 'utf8'), cipher.final()]);
  return {
    $ora: 'enc:v1',
    alg: 'A256GCM',
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

export function unseal(key: Buffer | null, envelope: EncryptedEnvelope, slot: string, memoryId: string): SealedFields {
  if (!key) {
    throw new OraError({
      code: 'INTERNAL_ERROR',
      message: `Memory ${memoryId} is encrypted and ORA_MEMORY_ENCRYPTION_KEY is not set`,
    });
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
    decipher.setAAD(Buffer.from(slot, 'utf8'));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(envelope.data, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as SealedFields;
  } catch (error) {
    throw new OraError({
      code: 'INTERNAL_ERROR',
      message: `Memory ${memoryId} cannot be decrypted: ORA_MEMORY_ENCRYPTION_KEY is not the key it was written with`,
      cause: error,
    });
  }
}

/** The associated data of a memory: its owner, type and key. */
export function slotOf(agentId: string | null, type: string, key: string): string {
  return `${agentId ?? 'ora'}\u0000${type}\u0000${key}`;
}
