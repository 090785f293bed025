/**
 * Shared cache backends (engine/distributed): a directory and S3 (against s3rver on loopback).
 * Both must round-trip objects and records, refuse a corrupt object (and let a good copy be
 * stored again), refuse bytes that do not match the digest they are stored under, and serve a
 * second machine that shares only the bucket.
 */
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Digest, StageKey } from '../engine/types.ts';
import { digestBytes } from '../engine/distributed/digest.ts';
import { CorruptObjectError, MissingObjectError, SharedCacheError, objectPath, type ObjectBackend } from '../engine/distributed/backend.ts';
import { openBackend } from '../engine/distributed/open-backend.ts';
import { parseS3Url } from '../engine/distributed/s3-backend.ts';
import { startS3, type S3Server } from './fixtures/distributed/servers.ts';

// The AWS SDK warns about Node 20 on every start; that is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const encoder = new TextEncoder();
const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90' as StageKey;

async function object(text: string): Promise<{ digest: Digest; bytes: Uint8Array }> {
  const bytes = encoder.encode(text);
  return { digest: await digestBytes(bytes), bytes };
}

/** The behaviour both backends share; `corrupt` overwrites a stored object behind the backend's back. */
function sharedBehaviour(open: () => Promise<ObjectBackend>, corrupt: (digest: Digest, bytes: Uint8Array) => Promise<void>) {
  test('round-trips objects and records', async () => {
    const backend = await open();
    try {
      const { digest, bytes } = await object('hello shared cache');
      assert.equal(await backend.has(digest), false);
      await assert.rejects(backend.get(digest), MissingObjectError);
      await backend.put(digest, bytes);
      assert.equal(await backend.has(digest), true);
      assert.deepEqual(await backend.get(digest), bytes);
      // write-once: a second put of the same object is accepted and changes nothing
      await backend.put(digest, bytes);
      assert.deepEqual(await backend.get(digest), bytes);

      assert.equal(await backend.getRecord(KEY), undefined);
      const record = { outputs: { weights: digest }, metrics: { accuracy: 0.97 } };
      await backend.putRecord(KEY, record);
      assert.deepEqual(await backend.getRecord(KEY), record);
      await backend.putRecord(KEY, { ...record, metrics: { accuracy: 0.5 } });
      assert.deepEqual(await backend.getRecord(KEY), { ...record, metrics: { accuracy: 0.5 } });
    } finally {
      await backend.close();
    }
  });

  test('a corrupt object is refused, set aside, and can be stored again', async () => {
    const backend = await open();
    try {
      const { digest, bytes } = await object('bytes that will be damaged');
      await backend.put(digest, bytes);
      const damaged = Uint8Array.from(bytes);
      damaged[3] ^= 0xff;
      await corrupt(digest, damaged);
      const error = await backend.get(digest).then(
        () => assert.fail('a corrupt object was returned'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof CorruptObjectError, String(error));
      assert.match(error.message, new RegExp(digest));
      assert.match(error.message, /corrupt/);
      // the bad copy no longer blocks the write-once slot: a good copy can be stored again
      assert.equal(await backend.has(digest), false);
      await backend.put(digest, bytes);
      assert.deepEqual(await backend.get(digest), bytes);
    } finally {
      await backend.close();
    }
  });

  test('a truncated object (partial upload) is refused', async () => {
    const backend = await open();
    try {
      const { digest, bytes } = await object('x'.repeat(5000));
      await backend.put(digest, bytes);
      await corrupt(digest, bytes.subarray(0, 1000));
      await assert.rejects(backend.get(digest), CorruptObjectError);
    } finally {
      await backend.close();
    }
  });

  test('put refuses bytes that do not hash to the digest', async () => {
    const backend = await open();
    try {
      const { digest } = await object('the real content');
      await assert.rejects(backend.put(digest, encoder.encode('something else')), (e: Error) => {
        assert.ok(e instanceof SharedCacheError);
        assert.match(e.message, /refusing to store/);
        return true;
      });
      assert.equal(await backend.has(digest), false);
    } finally {
      await backend.close();
    }
  });

  test('malformed digests and keys never become paths', async () => {
    const backend = await open();
    try {
      await assert.rejects(backend.get('../../etc/passwd' as Digest), /invalid digest/);
      await assert.rejects(backend.getRecord('ABC' as StageKey), /invalid key/);
    } finally {
      await backend.close();
    }
  });
}

describe('directory backend', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'nnmod-dircache-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  sharedBehaviour(
    () => openBackend(root),
    (digest, bytes) => writeFile(join(root, objectPath(digest)), bytes),
  );

  test('leaves no temp files behind and keeps corrupt copies in quarantine', async () => {
    const entries = await readdir(join(root, 'tmp'));
    assert.deepEqual(entries, []);
    const quarantined = await readdir(join(root, 'quarantine'));
    assert.ok(quarantined.length >= 2, `expected the corrupt copies in quarantine, found ${quarantined.join(', ')}`);
  });

  test('records are readable JSON files for people and other tools', async () => {
    const backend = await openBackend(root);
    await backend.putRecord(KEY, { hello: 'world' });
    const text = await readFile(join(root, 'runs', KEY.slice(0, 2), `${KEY}.json`), 'utf8');
    assert.deepEqual(JSON.parse(text), { hello: 'world' });
  });

  test('unknown URL schemes are refused with a message naming the location', async () => {
    await assert.rejects(openBackend('gs://bucket/x'), /unsupported cache location gs:\/\/bucket\/x/);
  });
});

describe('S3 backend (s3rver on loopback)', () => {
  let server: S3Server;
  let raw: S3Client;
  const prefix = 'team/cache';
  const options = () => ({ s3: { endpoint: server.endpoint, credentials: server.credentials } });

  before(async () => {
    server = await startS3();
    raw = new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: server.credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  });
  after(async () => {
    raw?.destroy();
    await server?.stop();
  });

  sharedBehaviour(
    () => openBackend(`s3://${server.bucket}/${prefix}`, options()),
    async (digest, bytes) => {
      await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: `${prefix}/${objectPath(digest)}`, Body: bytes }));
    },
  );

  test('a second driver machine (its own local directory, the same bucket) sees the first one’s work', async () => {
    const first = await openBackend(`s3://${server.bucket}/${prefix}/shared`, options());
    const { digest, bytes } = await object('computed on machine A');
    await first.put(digest, bytes);
    await first.putRecord(KEY, { outputs: { table: digest } });
    await first.close();

    const second = await openBackend(`s3://${server.bucket}/${prefix}/shared/`, options());
    try {
      const record = (await second.getRecord(KEY)) as { outputs: { table: Digest } };
      assert.equal(record.outputs.table, digest);
      assert.deepEqual(await second.get(record.outputs.table), bytes);
    } finally {
      await second.close();
    }
  });

  test('an unreachable endpoint gives a message naming it', async () => {
    await assert.rejects(openBackend('s3://some-bucket/x', { s3: { endpoint: 'http://127.0.0.1:9', credentials: server.credentials } }), (e: Error) => {
      assert.ok(e instanceof SharedCacheError, String(e));
      assert.match(e.message, /endpoint/);
      return true;
    });
  });

  test('a missing bucket gives a message that says what to do', async () => {
    await assert.rejects(openBackend('s3://no-such-bucket/x', options()), (e: Error) => {
      assert.ok(e instanceof SharedCacheError, String(e));
      assert.match(e.message, /s3:\/\/no-such-bucket\/x/);
      assert.match(e.message, /create it first/);
      return true;
    });
  });

  test('s3:// locations are parsed into bucket and prefix', () => {
    assert.deepEqual(parseS3Url('s3://my-bucket/a/b/'), { bucket: 'my-bucket', prefix: 'a/b' });
    assert.deepEqual(parseS3Url('s3://my-bucket'), { bucket: 'my-bucket', prefix: '' });
    assert.throws(() => parseS3Url('s3://A_B/x'), /expected s3:\/\/bucket\/prefix/);
  });
});
