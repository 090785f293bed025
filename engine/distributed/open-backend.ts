/**
 * Open a shared cache from its command-line form. Kept apart from backend.ts (the interface
 * both implementations import), so that no module imports one that imports it back.
 */
import { resolve } from 'node:path';
import { SharedCacheError, type ObjectBackend, type S3Options } from './backend.ts';

/** `s3://bucket/prefix` for object storage, anything else is a directory (created if missing). The SDK loads only for S3. */
export async function openBackend(location: string, options: { s3?: S3Options } = {}): Promise<ObjectBackend> {
  if (location.startsWith('s3://')) {
    const { S3Backend, parseS3Url } = await import('./s3-backend.ts');
    return S3Backend.open(parseS3Url(location), options.s3 ?? {});
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new SharedCacheError(`unsupported cache location ${location}: use a directory path (a shared filesystem) or s3://bucket/prefix`);
  }
  const { DirectoryBackend } = await import('./dir-backend.ts');
  return DirectoryBackend.open(resolve(location));
}
