/**
 * Shared cache in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, s3rver in tests),
 * through the AWS SDK.
 *
 * Layout under `s3://bucket/prefix`: the same as the directory backend (objects/ab/<digest>,
 * runs/ab/<key>.json, quarantine/). A PUT is atomic in S3 (an object is either wholly there or
 * absent), and every GET is re-hashed anyway, so a truncated or altered object is never used.
 * Objects are written once: skipped when already present, and sent with `If-None-Match: *`
 * so that stores which honour conditional writes keep the first copy.
 */
import { CopyObjectCommand, HeadBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Digest, Json, StageKey } from '../types.ts';
import { digestBytes } from './digest.ts';
import { CorruptObjectError, MissingObjectError, SharedCacheError, objectPath, recordPath, type ObjectBackend, type S3Options } from './backend.ts';

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash ('' for the bucket root). */
  prefix: string;
}

export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!match || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(match[1])) {
    throw new SharedCacheError(
      `invalid S3 cache location ${JSON.stringify(url)}: expected s3://bucket/prefix (bucket: 3–63 lower-case letters, digits, dots, hyphens)`,
    );
  }
  return { bucket: match[1], prefix: match[2].replace(/^\/+|\/+$/g, '') };
}

export class S3Backend implements ObjectBackend {
  readonly location: string;
  private readonly client: S3Client;

  private constructor(
    private readonly where: S3Location,
    options: S3Options,
  ) {
    this.location = `s3://${where.bucket}/${where.prefix}`;
    // The SDK warns on every process start under Node 20 (supported until 2027); that is noise
    // in a worker's log, not something a pipeline user can act on.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const endpoint = options.endpoint ?? process.env.NNMOD_S3_ENDPOINT ?? undefined;
    const customEndpoint = endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const pathStyleEnv = process.env.NNMOD_S3_PATH_STYLE;
    this.client = new S3Client({
      endpoint,
      region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? (pathStyleEnv !== undefined ? pathStyleEnv === '1' || pathStyleEnv === 'true' : customEndpoint !== undefined),
      credentials: options.credentials,
      // Our own digest check covers integrity end to end; the SDK's default streaming
      // checksums (aws-chunked trailers) are not understood by several S3-compatible servers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** Connect and check that the bucket is there, so a wrong name or endpoint fails up front. */
  static async open(where: S3Location, options: S3Options): Promise<S3Backend> {
    const backend = new S3Backend(where, options);
    try {
      await backend.client.send(new HeadBucketCommand({ Bucket: where.bucket }));
    } catch (error) {
      backend.client.destroy();
      if (status(error) === 404) {
        throw new SharedCacheError(
          `the bucket of the shared cache ${backend.location} does not exist: create it first (for example \`aws s3 mb s3://${where.bucket}\`)`,
        );
      }
      throw backend.wrap(error, 'opening the bucket');
    }
    return backend;
  }

  private key(relative: string): string {
    return this.where.prefix ? `${this.where.prefix}/${relative}` : relative;
  }

  async has(digest: Digest): Promise<boolean> {
    return this.exists(this.key(objectPath(digest)));
  }

  async get(digest: Digest): Promise<Uint8Array> {
    const key = this.key(objectPath(digest));
    const bytes = await this.read(key);
    if (bytes === undefined) throw new MissingObjectError(this.location, digest);
    const actual = await digestBytes(bytes);
    if (actual !== digest) {
      const aside = this.key(`quarantine/${digest}.${Date.now()}`);
      let quarantinedAs: string | undefined = `s3://${this.where.bucket}/${aside}`;
      try {
        await this.client.send(new CopyObjectCommand({ Bucket: this.where.bucket, Key: aside, CopySource: `${this.where.bucket}/${encodeURI(key)}` }));
      } catch {
        quarantinedAs = undefined;
      }
      // Remove it so the next writer can store a good copy (objects are otherwise write-once).
      await this.client.send(new DeleteObjectCommand({ Bucket: this.where.bucket, Key: key })).catch(() => {});
      throw new CorruptObjectError(this.location, digest, actual, quarantinedAs);
    }
    return bytes;
  }

  async put(digest: Digest, bytes: Uint8Array): Promise<void> {
    const actual = await digestBytes(bytes);
    if (actual !== digest) {
      throw new SharedCacheError(`refusing to store object ${digest} in ${this.location}: its bytes hash to ${actual}`);
    }
    const key = this.key(objectPath(digest));
    if (await this.exists(key)) return;
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.where.bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength, IfNoneMatch: '*' }));
    } catch (error) {
      if (status(error) === 412) return; // someone stored it between our check and our write
      throw this.wrap(error, `storing object ${digest}`);
    }
  }

  async getRecord(key: StageKey): Promise<Json | undefined> {
    const bytes = await this.read(this.key(recordPath(key)));
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as Json;
    } catch {
      return undefined; // a damaged record is a miss: the key is recomputed
    }
  }

  async putRecord(key: StageKey, record: Json): Promise<void> {
    const body = new TextEncoder().encode(JSON.stringify(record, null, 2) + '\n');
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.where.bucket, Key: this.key(recordPath(key)), Body: body, ContentType: 'application/json' }));
    } catch (error) {
      throw this.wrap(error, `storing run record ${key}`);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.where.bucket, Key: key }));
      return true;
    } catch (error) {
      if (status(error) === 404) return false;
      throw this.wrap(error, `checking ${key}`);
    }
  }

  private async read(key: string): Promise<Uint8Array | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: key }));
      return await response.Body!.transformToByteArray();
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw this.wrap(error, `reading ${key}`);
    }
  }

  private wrap(error: unknown, what: string): Error {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    const code = e.$metadata?.httpStatusCode;
    const hint =
      code === 403 || code === 401
        ? 'check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)'
        : e.name === 'NoSuchBucket'
          ? `create the bucket ${this.where.bucket} first`
          : 'check the endpoint (--s3-endpoint or NNMOD_S3_ENDPOINT) and that the server is reachable';
    return new SharedCacheError(`${what} in ${this.location} failed: ${e.name}: ${e.message || code}; ${hint}`);
  }
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}
