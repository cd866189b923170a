import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Where media bytes live. Local disk by default; an S3-compatible bucket implements the same four
 * calls. Keys are media ids (UUIDs), so they are safe as file names and object keys alike.
 */
export interface MediaStore {
  readonly kind: 'local' | 's3';
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  /** The bytes, or null when nothing is stored under the key. */
  get(key: string): Promise<Buffer | null>;
  /** Removes the bytes; removing what is not there is not an error. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

const KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Files under a directory, two hex characters of fan-out (`ab/abcd...`). */
export class LocalMediaStore implements MediaStore {
  readonly kind = 'local' as const;

  constructor(
    readonly root: string,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  #path(key: string): string {
    if (!KEY.test(key)) throw new Error(`not a media key: ${key}`);
    return path.join(this.root, key.slice(0, 2), key);
  }

  async put(key: string, data: Buffer): Promise<void> {
    const target = this.#path(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Write aside and rename, so a reader never sees half a file.
    const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, data);
    await rename(temporary, target);
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.#path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async close(): Promise<void> {
    await this.onClose();
  }
}

/** A store in a fresh temporary directory that `close()` removes (for `ORA_DATA_DIR=memory://`). */
export async function createTemporaryMediaStore(): Promise<LocalMediaStore> {
  const root = await mkdtemp(path.join(tmpdir(), 'ora-media-'));
  return new LocalMediaStore(root, () => rm(root, { recursive: true, force: true }));
}
