import { z } from 'zod';
import { Id, PageInput, page, Timestamp } from './common';

export const MediaItem = z
  .object({
    id: Id,
    filename: z.string(),
    contentType: z.string().meta({ description: 'Sniffed from the bytes, never taken from the uploader' }),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    alt: z.string().nullable(),
    url: z.string().meta({ description: 'Where the public reads it: /media/<id>' }),
    storage: z.enum(['local', 's3']),
    createdByAgentId: Id.nullable(),
    createdAt: Timestamp,
  })
  .meta({ description: 'An uploaded file (images by default)' });
export type MediaItem = z.infer<typeof MediaItem>;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what a file name must not hold.
const FILE_NAME = /^[^\\/\x00-\x1f\x7f]+$/;

export const MediaUploadInput = z.object({
  filename: z.string().trim().min(1).max(255).regex(FILE_NAME, 'a file name, without slashes or control characters'),
  contentType: z
    .string()
    .max(200)
    .optional()
    .meta({ description: 'The type you believe it is; the server sniffs the bytes and uses what it finds' }),
  data: z.string().min(1).meta({ description: 'The file as base64 (a data: URL is accepted too)' }),
  alt: z.string().max(500).nullable().optional(),
});
export const MediaListInput = PageInput.extend({});
export const MediaListOutput = page(MediaItem);
export const MediaGetInput = z.object({ id: Id });
export const MediaDeleteInput = z.object({ id: Id });
export const MediaDeleteOutput = z.object({ id: Id, deleted: z.literal(true) });
