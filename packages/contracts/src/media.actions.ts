import { action } from './action';
import {
  MediaDeleteInput,
  MediaDeleteOutput,
  MediaGetInput,
  MediaItem,
  MediaListInput,
  MediaListOutput,
  MediaUploadInput,
} from './media';

/** The `media.*` actions. */
export const mediaActions = {
  'media.upload': action({
    summary:
      'Upload a file as base64 (images by default; the type is sniffed from the bytes). Large files: POST /api/ora/media.upload',
    scope: 'media:write',
    mutates: true,
    input: MediaUploadInput,
    output: MediaItem,
  }),
  'media.list': action({
    summary: 'List uploaded media, newest first',
    scope: 'media:read',
    mutates: false,
    input: MediaListInput,
    output: MediaListOutput,
  }),
  'media.get': action({
    summary: 'One media item (its metadata; the bytes are at its url)',
    scope: 'media:read',
    mutates: false,
    input: MediaGetInput,
    output: MediaItem,
  }),
  'media.delete': action({
    summary: 'Delete a media item and its stored file',
    scope: 'media:write',
    mutates: true,
    input: MediaDeleteInput,
    output: MediaDeleteOutput,
  }),
};
