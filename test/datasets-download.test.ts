/**
 * Verified downloads against a loopback HTTP server built here (127.0.0.1 only): a normal
 * download, a transfer cut half-way then resumed with a Range request, a 500 then success, a
 * 404, a wrong checksum, a refused connection, a server that never answers. After a failure
 * nothing may be in the downloads directory that looks complete.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { encodeIdx } from '../science/datasets/idx.ts';
import { loadDownloaded, obtainOfficialFile, type DatasetEnv } from '../science/datasets/load.ts';
import { DownloadError } from '../science/datasets/download.ts';
import type { DownloadedDataset, IdxFile } from '../science/datasets/registry.ts';
import { waitForLock } from '../engine/lock.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// A tiny dataset in the MNIST layout: 6 train and 3 test images.
const trainLabels = Uint8Array.from([0, 1, 2, 2, 9, 5]);
const testLabels = Uint8Array.from([7, 7, 0]);
const trainImages = Uint8Array.from({ length: 6 * 784 }, (_, i) => (i * 31) % 256);
const testImages = Uint8Array.from({ length: 3 * 784 }, (_, i) => (i * 17) % 256);
const raw: Record<string, Uint8Array> = {
  'train-images-idx3-ubyte': encodeIdx([6, 28, 28], trainImages),
  'train-labels-idx1-ubyte': encodeIdx([6], trainLabels),
  't10k-images-idx3-ubyte': encodeIdx([3, 28, 28], testImages),
  't10k-labels-idx1-ubyte': encodeIdx([3], testLabels),
};
const roles: Record<string, IdxFile['role']> = {
  'train-images-idx3-ubyte': 'train-images',
  'train-labels-idx1-ubyte': 'train-labels',
  't10k-images-idx3-ubyte': 'test-images',
  't10k-labels-idx1-ubyte': 'test-labels',
};
// Served gzipped, as the official hosts do.
const served: Record<string, Uint8Array> = Object.fromEntries(Object.entries(raw).map(([n, b]) => [`${n}.gz`, new Uint8Array(gzipSync(b))]));

const hist = (labels: Uint8Array) => Array.from({ length: 10 }, (_, l) => labels.filter((x) => x === l).length);
const TINY: DownloadedDataset = {
  kind: 'download',
  name: 'tiny',
  title: 'fixture',
  mirrorFolder: 'tiny-mnist',
  files: Object.keys(raw).map((n) => ({ kind: 'idx', role: roles[n], name: `${n}.gz`, contentSha256: sha256(raw[n]) })),
  expected: { nTrain: 6, nTest: 3, trainHistogram: hist(trainLabels), testHistogram: hist(testLabels) },
};
const imagesFile = TINY.files[0] as IdxFile;

/** Route behaviour per path prefix; counts requests so tests can assert what happened. */
interface Log {
  path: string;
  range?: string;
}
let server: Server;
let base = '';
let refusedBase = '';
const log: Log[] = [];
const counters = new Map<string, number>();
const sockets = new Set<Socket>();

function send(req: IncomingMessage, res: ServerResponse, body: Uint8Array, opts: { cutAt?: number } = {}) {
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = range ? Number(range[1]) : 0;
  if (start >= body.length && range) {
    res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
    return;
  }
  const headers: Record<string, string | number> = { 'content-length': body.length - start, 'content-type': 'application/octet-stream' };
  if (range) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
  res.writeHead(range ? 206 : 200, headers);
  if (opts.cutAt !== undefined) {
    // write part of the body, then drop the connection mid-transfer
    res.write(body.subarray(start, opts.cutAt), () => setTimeout(() => req.socket.destroy(), 20));
    return;
  }
  res.end(body.subarray(start));
}

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const [, mode, file] = url.pathname.split('/');
    log.push({ path: url.pathname, range: req.headers.range });
    const n = (counters.get(mode) ?? 0) + 1;
    counters.set(mode, n);
    const body = served[file];
    if (!body) return void res.writeHead(404, 'Not Found').end();
    switch (mode) {
      case 'ok':
        return send(req, res, body);
      case 'cut': // first request: cut half-way; later ones: honour Range
        return send(req, res, body, n === 1 ? { cutAt: body.length >> 1 } : {});
      case 'alwayscut':
        return send(req, res, body, {
          cutAt: Math.max(1, Math.min(body.length - 1, (req.headers.range ? Number(/\d+/.exec(req.headers.range)![0]) : 0) + 10)),
        });
      case 'flaky': // 500 first, then fine
        return n === 1 ? void res.writeHead(500, 'Internal Server Error').end('boom') : send(req, res, body);
      case 'down':
        return void res.writeHead(503, 'Service Unavailable').end();
      case 'wrong': {
        const other = encodeIdx([6, 28, 28], new Uint8Array(6 * 784).fill(1), { gzip: true });
        res.writeHead(200, { 'content-length': other.length });
        return void res.end(other);
      }
      case 'silent': // accept, never answer
        return;
      default:
        return void res.writeHead(404, 'Not Found').end();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // a port with nothing listening: bind, note it, close
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  refusedBase = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((r) => probe.close(() => r()));
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const fast = { retries: 2, backoffMs: 5, headersTimeoutMs: 2000, idleTimeoutMs: 2000 };

function env(dir: string, urls: (file: string) => string[], extra: Partial<DatasetEnv> = {}): DatasetEnv {
  return { seed: 0, downloadsDir: dir, urls: (_d, f) => urls(f), download: fast, lock: waitForLock, ...extra };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'nnmod-dl-'));
/** Files in the downloads dir that look complete (anything but .partial and lock files). */
const completeFiles = (dir: string) =>
  existsSync(join(dir, 'tiny-mnist')) ? readdirSync(join(dir, 'tiny-mnist')).filter((n) => !n.endsWith('.partial') && !n.endsWith('.lock')) : [];

test('normal download: all four files fetched, verified, parsed; a second load uses the downloads without the network', async () => {
  const dir = tmp();
  try {
    const fractions: number[] = [];
    const built = await loadDownloaded(
      TINY,
      env(dir, (f) => [`${base}/ok/${f}`], { progress: (u) => u.fraction !== undefined && fractions.push(u.fraction) }),
    );
    assert.deepEqual(Array.from(built.dataset.train.labels), Array.from(trainLabels));
    assert.deepEqual(Array.from(built.dataset.test.images), Array.from(testImages));
    assert.equal(built.digests['tiny/train-images-idx3-ubyte'], sha256(raw['train-images-idx3-ubyte']));
    assert.match(built.origins['tiny/t10k-labels-idx1-ubyte.gz'], new RegExp(`^download ${base}/ok/`));
    assert.ok(fractions.includes(1), 'progress reaches 1 for each file');
    assert.deepEqual(completeFiles(dir).sort(), TINY.files.map((f) => f.name).sort());
    const before = log.length;
    const again = await loadDownloaded(
      TINY,
      env(dir, () => [`${refusedBase}/nothing`]),
    );
    assert.equal(log.length, before, 'no request once the files are downloaded');
    assert.match(again.origins['tiny/train-images-idx3-ubyte.gz'], /^downloads /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a transfer cut half-way resumes with an HTTP Range request and verifies', async () => {
  const dir = tmp();
  try {
    counters.delete('cut');
    const from = log.length;
    const got = await obtainOfficialFile(
      TINY,
      imagesFile,
      env(dir, (f) => [`${base}/cut/${f}`]),
    );
    const requests = log.slice(from);
    assert.equal(requests.length, 2);
    assert.equal(requests[0].range, undefined);
    assert.equal(requests[1].range, `bytes=${served[imagesFile.name].length >> 1}-`);
    assert.equal(got.content.digests['train-images-idx3-ubyte'], imagesFile.contentSha256);
    assert.deepEqual(readFileSync(got.path), Buffer.from(served[imagesFile.name]));
    assert.deepEqual(
      readdirSync(join(dir, 'tiny-mnist')).filter((n) => n.endsWith('.partial')),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a 500 is retried with backoff and then succeeds', async () => {
  const dir = tmp();
  try {
    counters.delete('flaky');
    const got = await obtainOfficialFile(
      TINY,
      imagesFile,
      env(dir, (f) => [`${base}/flaky/${f}`]),
    );
    assert.equal(counters.get('flaky'), 2);
    assert.equal(got.content.digests['train-images-idx3-ubyte'], imagesFile.contentSha256);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('failures: 404, 500 after retries, refused connection, wrong checksum, a cut that never completes, a silent server', async () => {
  const cases: { name: string; urls: (f: string) => string[]; expect: RegExp[]; partialKept?: boolean; extra?: Partial<DatasetEnv> }[] = [
    { name: '404', urls: (f) => [`${base}/missing/${f}`], expect: [/HTTP 404 Not Found/] },
    { name: '500', urls: (f) => [`${base}/down/${f}`], expect: [/HTTP 503 Service Unavailable \(3 attempts\)/] },
    { name: 'refused', urls: (f) => [`${refusedBase}/${f}`], expect: [/connection refused \(3 attempts\)/] },
    {
      name: 'wrong checksum',
      urls: (f) => [`${base}/wrong/${f}`],
      expect: [new RegExp(`expected ${imagesFile.contentSha256}, got [0-9a-f]{64}`), /downloaded, but/],
    },
    {
      name: 'always cut',
      urls: (f) => [`${base}/alwayscut/${f}`],
      expect: [/transfer cut after \d+/, /incomplete transfer is kept as .*\.partial and resumes/],
      partialKept: true,
    },
    {
      name: 'silent',
      urls: (f) => [`${base}/silent/${f}`],
      expect: [/timed out: no response within 0\.2 s/],
      extra: { download: { retries: 1, backoffMs: 5, headersTimeoutMs: 200 } },
    },
    // every URL is tried, in order, and each is reported
    {
      name: 'two URLs',
      urls: (f) => [`${base}/missing/${f}`, `${refusedBase}/${f}`],
      expect: [/missing\/train-images-idx3-ubyte\.gz: HTTP 404[^]*127\.0\.0\.1:\d+\/train-images-idx3-ubyte\.gz: connection refused/],
    },
  ];
  for (const c of cases) {
    const dir = tmp();
    try {
      await assert.rejects(obtainOfficialFile(TINY, imagesFile, env(dir, c.urls, c.extra)), (e: Error) => {
        assert.ok(e instanceof DownloadError, `${c.name}: ${e}`);
        assert.match(e.message, /^dataset tiny: train-images-idx3-ubyte\.gz: download failed; nothing was stored\./, c.name);
        for (const url of c.urls(imagesFile.name)) assert.ok(e.message.includes(url), `${c.name}: message names ${url}`);
        for (const re of c.expect) assert.match(e.message, re, c.name);
        assert.match(e.message, /--mirror <DIR> or set NNMOD_MIRROR=<DIR>/, `${c.name}: says how to use a mirror`);
        assert.match(e.message, /<DIR>\/tiny-mnist\/train-images-idx3-ubyte\.gz/, c.name);
        return true;
      });
      assert.deepEqual(completeFiles(dir), [], `${c.name}: nothing complete-looking is left`);
      const partials = existsSync(join(dir, 'tiny-mnist')) ? readdirSync(join(dir, 'tiny-mnist')).filter((n) => n.endsWith('.partial')) : [];
      assert.equal(partials.length, c.partialKept ? 1 : 0, `${c.name}: partial file kept only after a cut transfer`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('a kept partial file resumes on the next run (also when already complete: 416); a corrupted finished download is fetched again', async () => {
  const dir = tmp();
  try {
    const body = served[imagesFile.name];
    mkdirSync(join(dir, 'tiny-mnist'), { recursive: true });
    writeFileSync(join(dir, 'tiny-mnist', `${imagesFile.name}.partial`), body.subarray(0, 100));
    const from = log.length;
    await obtainOfficialFile(
      TINY,
      imagesFile,
      env(dir, (f) => [`${base}/ok/${f}`]),
    );
    assert.deepEqual(
      log.slice(from).map((l) => l.range),
      ['bytes=100-'],
    );
    // a partial file that already holds everything: the server answers 416, verification accepts it
    rmSync(join(dir, 'tiny-mnist', imagesFile.name));
    writeFileSync(join(dir, 'tiny-mnist', `${imagesFile.name}.partial`), body);
    const from416 = log.length;
    const complete = await obtainOfficialFile(
      TINY,
      imagesFile,
      env(dir, (f) => [`${base}/ok/${f}`]),
    );
    assert.deepEqual(
      log.slice(from416).map((l) => l.range),
      [`bytes=${body.length}-`],
    );
    assert.equal(complete.content.digests['train-images-idx3-ubyte'], imagesFile.contentSha256);
    // damage the verified file: the next load notices and downloads it again
    writeFileSync(join(dir, 'tiny-mnist', imagesFile.name), body.subarray(0, body.length - 3));
    const got = await obtainOfficialFile(
      TINY,
      imagesFile,
      env(dir, (f) => [`${base}/ok/${f}`]),
    );
    assert.match(got.origin, /^download /);
    assert.deepEqual(readFileSync(got.path), Buffer.from(body));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('concurrent loads of one file download it once', async () => {
  const dir = tmp();
  try {
    const from = log.length;
    await Promise.all(
      [0, 1, 2].map(() =>
        obtainOfficialFile(
          TINY,
          imagesFile,
          env(dir, (f) => [`${base}/ok/${f}`]),
        ),
      ),
    );
    assert.equal(log.slice(from).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mirror: files are taken from <mirror>/<folder>/, gzipped or raw, and verified the same way', async () => {
  const dir = tmp();
  try {
    const mirror = join(dir, 'mirror');
    mkdirSync(join(mirror, 'tiny-mnist'), { recursive: true });
    // two files gzipped under the official name, two raw without .gz
    for (const [n, b] of Object.entries(raw)) {
      if (n.startsWith('train')) writeFileSync(join(mirror, 'tiny-mnist', `${n}.gz`), served[`${n}.gz`]);
      else writeFileSync(join(mirror, 'tiny-mnist', n), b);
    }
    const from = log.length;
    const built = await loadDownloaded(
      TINY,
      env(join(dir, 'dl'), () => [`${refusedBase}/x`], { mirror }),
    );
    assert.equal(log.length, from, 'no network with a complete mirror');
    assert.deepEqual(Array.from(built.dataset.test.labels), Array.from(testLabels));
    assert.match(built.origins['tiny/t10k-images-idx3-ubyte.gz'], /mirror .*tiny-mnist\/t10k-images-idx3-ubyte$/);
    assert.equal(completeFiles(join(dir, 'dl')).length, 0, 'mirror files are not copied');
    // a corrupt mirror file is an error that names it (no silent fallback)
    writeFileSync(join(mirror, 'tiny-mnist', 't10k-labels-idx1-ubyte'), encodeIdx([3], Uint8Array.from([1, 1, 1])));
    await assert.rejects(
      loadDownloaded(
        TINY,
        env(join(dir, 'dl'), () => [`${base}/ok/x`], { mirror }),
      ),
      /mirror file .*t10k-labels-idx1-ubyte: content sha256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}[^]*Replace it with the official file/,
    );
    // a file missing from the mirror falls back to the URLs, and the failure says the mirror lacked it
    rmSync(join(mirror, 'tiny-mnist', 't10k-labels-idx1-ubyte'));
    await assert.rejects(
      loadDownloaded(
        TINY,
        env(join(dir, 'dl'), (f) => [`${base}/missing/${f}`], { mirror }),
      ),
      /Not in the mirror .* \(looked for .*t10k-labels-idx1-ubyte\.gz, .*t10k-labels-idx1-ubyte\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
