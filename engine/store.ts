/**
 * The content-addressed artifact store under `artifacts/`:
 *
 *   objects/<digest>        every output, named by its content digest (engine/hash.ts). An
 *                           `arrow` output is an Arrow IPC *file* (pyarrow.ipc.open_file,
 *                           polars.read_ipc, DuckDB read_arrow); `bytes` is the raw bytes; a
 *                           `files` output is a JSON manifest {"files": {path: {digest, size}}}
 *                           whose entries are objects too.
 *   runs/<key>.json         one run record per stage key: what went into the key, the output
 *                           digests and kinds, metrics, timings (RunRecord below). A record is
 *                           written last, after all its objects, so its presence means "done".
 *   index/<slot>            the key of the latest run of one stage instance (stage + axes + role
 *                           + shard): `status` compares against it to say *why* something is stale.
 *   locks/<key>.lock        per-key locks (engine/lock.ts).
 *   checkpoints/<key>/      a running instance's crash-surviving scratch state (RunContext.checkpoint).
 *   downloads/<stage>/      a stage's reusable downloads (not content-addressed).
 *   quarantine/             objects `verify` found corrupt.
 *   logs/<key>.log          the stack trace of a failed run.
 *   state/stat-memo.json    the stat memo (engine/statmemo.ts).
 *   tmp/                    temp files being written (same filesystem, so renames are atomic).
 *
 * All writes are atomic (temp file, fsync, rename, fsync directory): a crash leaves either no
 * object or a complete one, and never a run record whose objects are missing.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { readFile, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';

// apache-arrow takes ~0.4 s to load; a no-op run never encodes or decodes a table, so load it on first use.
let arrowModule: Promise<typeof import('apache-arrow')> | undefined;
const arrow = () => (arrowModule ??= import('apache-arrow'));
import { hashBytes, hashJson, canonicalJson } from './hash.ts';
import { writeFileAtomic, writeFileAtomicSync } from './fsutil.ts';
import { StageOutputError } from './errors.ts';
import type { Axes, CheckpointStore, Digest, FileTree, InputArtifact, Metrics, OutputKind, OutputValue, StageKey } from './types.ts';
import type { KeyParts } from './keys.ts';

/** One stored output of a run. */
export interface OutputRecord {
  kind: OutputKind;
  digest: Digest;
  size: number;
}

/** Instance = the one run of a plain stage; shard/combine = the two kinds of runs of a sample stage. */
export type RunRole = 'instance' | 'shard' | 'combine';

/**
 * A run record (artifacts/runs/<key>.json). `keyParts` is exactly what was hashed into `key`;
 * `code` lists the files and packages behind keyParts.code so `status` can name the file that
 * changed.
 */
export interface RunRecord {
  format: 1;
  key: StageKey;
  stage: string;
  axes: Axes;
  role: RunRole;
  shard?: { index: number; start: number; end: number };
  keyParts: KeyParts;
  code: { files: Record<string, string>; packages: Record<string, string> };
  outputs: Record<string, OutputRecord>;
  metrics: Metrics;
  timings: { startedAt: string; finishedAt: string; ms: number };
  host: string;
  pid: number;
}

/** The manifest stored for a `files` output. */
export interface FilesManifest {
  files: Record<string, { digest: Digest; size: number }>;
}

export class Store {
  readonly objectsDir: string;
  readonly runsDir: string;
  readonly indexDir: string;
  readonly locksDir: string;
  readonly checkpointsDir: string;
  readonly downloadsRoot: string;
  readonly quarantineDir: string;
  readonly logsDir: string;
  readonly stateDir: string;
  readonly tmpDir: string;

  /** `durable: false` skips fsync (benchmark set-up only; never for real runs). */
  constructor(readonly root: string, readonly durable = true) {
    this.objectsDir = join(root, 'objects');
    this.runsDir = join(root, 'runs');
    this.indexDir = join(root, 'index');
    this.locksDir = join(root, 'locks');
    this.checkpointsDir = join(root, 'checkpoints');
    this.downloadsRoot = join(root, 'downloads');
    this.quarantineDir = join(root, 'quarantine');
    this.logsDir = join(root, 'logs');
    this.stateDir = join(root, 'state');
    this.tmpDir = join(root, 'tmp');
  }

  /** Create the directory layout (idempotent). */
  init(): this {
    for (const d of [this.objectsDir, this.runsDir, this.indexDir, this.locksDir, this.checkpointsDir, this.downloadsRoot, this.logsDir, this.stateDir, this.tmpDir]) {
      mkdirSync(d, { recursive: true });
    }
    return this;
  }

  // ---- objects ---------------------------------------------------------------------------

  objectPath(digest: string): string {
    return join(this.objectsDir, digest);
  }

  hasObject(digest: string): boolean {
    return existsSync(this.objectPath(digest));
  }

  /**
   * Store bytes under their digest. An existing object is kept only if its content still hashes
   * to its name, so recomputing a result also repairs a corrupted copy of it.
   */
  async putBytes(bytes: Uint8Array): Promise<{ digest: Digest; size: number }> {
    const digest = hashBytes(bytes);
    const path = this.objectPath(digest);
    let intact = false;
    try {
      intact = statSync(path).size === bytes.length && hashBytes(await readFile(path)) === digest;
    } catch {}
    if (!intact) await writeFileAtomic(path, bytes, { tmpDir: this.tmpDir, durable: this.durable });
    return { digest, size: bytes.length };
  }

  async readBytes(digest: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(this.objectPath(digest)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(`artifact ${digest} is missing from ${this.objectsDir} (deleted by hand?); run \`verify\` then \`repro\` to recompute it`);
      }
      throw err;
    }
  }

  /** Store one output value and describe it. `where` names it in error messages. */
  async putOutput(value: OutputValue, where: string): Promise<OutputRecord> {
    if (value instanceof Uint8Array) {
      return { kind: 'bytes', ...(await this.putBytes(value)) };
    }
    if (isFileTree(value)) {
      const files: FilesManifest['files'] = {};
      for (const [path, content] of Object.entries(value.files)) {
        checkRelativePath(path, where);
        const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
        if (!(bytes instanceof Uint8Array)) throw new StageOutputError(`${where}: file '${path}' must be a string or Uint8Array`);
        files[path] = await this.putBytes(bytes);
      }
      const manifest = new TextEncoder().encode(canonicalJson({ files }));
      return { kind: 'files', ...(await this.putBytes(manifest)) };
    }
    if (isTable(value)) {
      // IPC *file* format (Arrow "Feather v2"), so any Arrow reader opens it with random access.
      return { kind: 'arrow', ...(await this.putBytes((await arrow()).tableToIPC(value, 'file'))) };
    }
    throw new StageOutputError(`${where} is neither an Arrow Table, a Uint8Array nor a FileTree ({ kind: 'files', files })`);
  }

  /** A read-only handle to a stored output (what stages receive as inputs). */
  artifact(rec: OutputRecord): InputArtifact {
    const store = this;
    return {
      kind: rec.kind,
      digest: rec.digest,
      async table(): Promise<Table> {
        if (rec.kind !== 'arrow') throw new Error(`artifact ${rec.digest} is '${rec.kind}', not an Arrow table`);
        return (await arrow()).tableFromIPC(await store.readBytes(rec.digest));
      },
      bytes: () => store.readBytes(rec.digest),
      async files(): Promise<Record<string, Uint8Array>> {
        if (rec.kind !== 'files') throw new Error(`artifact ${rec.digest} is '${rec.kind}', not a file tree`);
        const manifest = await store.readManifest(rec.digest);
        const out: Record<string, Uint8Array> = {};
        for (const [path, f] of Object.entries(manifest.files)) out[path] = await store.readBytes(f.digest);
        return out;
      },
    };
  }

  async readManifest(digest: string): Promise<FilesManifest> {
    return JSON.parse(new TextDecoder().decode(await this.readBytes(digest))) as FilesManifest;
  }

  /** Digests of every object a record references (outputs and, for `files`, their entries). */
  referencedObjects(rec: RunRecord): Digest[] {
    const out: Digest[] = [];
    for (const o of Object.values(rec.outputs)) {
      out.push(o.digest);
      if (o.kind === 'files') {
        try {
          const m = JSON.parse(readFileSync(this.objectPath(o.digest), 'utf8')) as FilesManifest;
          for (const f of Object.values(m.files)) out.push(f.digest);
        } catch {
          // A missing or corrupt manifest is verify's business.
        }
      }
    }
    return out;
  }

  listObjects(): string[] {
    try {
      return readdirSync(this.objectsDir).filter((n) => !n.startsWith('.'));
    } catch {
      return [];
    }
  }

  deleteObject(digest: string): void {
    rmSync(this.objectPath(digest), { force: true });
  }

  /** Move a corrupt object aside (kept for inspection, never served again). */
  quarantine(digest: string): string {
    mkdirSync(this.quarantineDir, { recursive: true });
    const dest = join(this.quarantineDir, `${digest}.${Date.now()}`);
    renameSync(this.objectPath(digest), dest);
    return dest;
  }

  // ---- run records -----------------------------------------------------------------------

  runPath(key: string): string {
    return join(this.runsDir, `${key}.json`);
  }

  /** The run record of `key`, or undefined if there is none (or it is unreadable). */
  getRun(key: string): RunRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.runPath(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const rec = JSON.parse(text) as RunRecord;
      return rec.format === 1 && rec.key === key ? rec : undefined;
    } catch {
      return undefined;
    }
  }

  /** A record counts as a cache hit only if its output objects are all present. */
  getValidRun(key: string): RunRecord | undefined {
    const rec = this.getRun(key);
    if (!rec) return undefined;
    for (const o of Object.values(rec.outputs)) if (!this.hasObject(o.digest)) return undefined;
    return rec;
  }

  async putRun(rec: RunRecord): Promise<void> {
    await writeFileAtomic(this.runPath(rec.key), JSON.stringify(rec, null, 1), { tmpDir: this.tmpDir, durable: this.durable });
    await writeFileAtomic(join(this.indexDir, slotId(rec.stage, rec.axes, rec.role, rec.shard?.index)), rec.key, { tmpDir: this.tmpDir, durable: this.durable });
  }

  /** The latest run of one stage instance (any key), for explaining staleness. */
  latestRun(stage: string, axes: Axes, role: RunRole, shardIndex?: number): RunRecord | undefined {
    const key = this.latestKey(stage, axes, role, shardIndex);
    return key === undefined ? undefined : this.getRun(key);
  }

  /** The key of the latest run of one stage instance, even if its record was since removed. */
  latestKey(stage: string, axes: Axes, role: RunRole, shardIndex?: number): string | undefined {
    try {
      return readFileSync(join(this.indexDir, slotId(stage, axes, role, shardIndex)), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  listRunKeys(): string[] {
    try {
      return readdirSync(this.runsDir)
        .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
        .map((n) => n.slice(0, -5));
    } catch {
      return [];
    }
  }

  deleteRun(key: string): void {
    rmSync(this.runPath(key), { force: true });
  }

  // ---- per-instance scratch --------------------------------------------------------------

  checkpoint(key: string): CheckpointStore {
    const dir = join(this.checkpointsDir, key);
    const file = join(dir, 'checkpoint.bin');
    const store = this;
    return {
      async load() {
        try {
          return new Uint8Array(await readFile(file));
        } catch {
          return undefined;
        }
      },
      async save(bytes: Uint8Array) {
        await mkdir(dir, { recursive: true });
        await writeFileAtomic(file, bytes, { tmpDir: store.tmpDir, durable: store.durable });
      },
    };
  }

  async clearCheckpoint(key: string): Promise<void> {
    await rm(join(this.checkpointsDir, key), { recursive: true, force: true });
  }

  downloadsDir(stage: string): string {
    const dir = join(this.downloadsRoot, stage);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Write the stack of a failed run; returns the log path. */
  writeFailureLog(key: string, text: string): string {
    const path = join(this.logsDir, `${key}.log`);
    try {
      writeFileAtomicSync(path, text, { tmpDir: this.tmpDir, durable: false });
    } catch {}
    return path;
  }

  /** Remove temp files left by crashed writers (only those of processes that are gone). */
  cleanTmp(isAlive: (pid: number) => boolean): number {
    let removed = 0;
    let names: string[] = [];
    try {
      names = readdirSync(this.tmpDir);
    } catch {}
    for (const n of names) {
      const m = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(n);
      if (m && isAlive(Number(m[1]))) continue;
      try {
        unlinkSync(join(this.tmpDir, n));
        removed++;
      } catch {}
    }
    return removed;
  }
}

/** Identity of "the same instance" across keys: stage, axes, role and shard index. */
export function slotId(stage: string, axes: Axes, role: RunRole, shardIndex?: number): string {
  return hashJson({ stage, axes, role, shard: shardIndex ?? null });
}

function isFileTree(v: unknown): v is FileTree {
  return typeof v === 'object' && v !== null && (v as FileTree).kind === 'files' && typeof (v as FileTree).files === 'object';
}

/** Duck-typed so a Table from another copy of apache-arrow is still accepted. */
function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && 'schema' in v && 'batches' in v && Array.isArray((v as Table).batches);
}

function checkRelativePath(path: string, where: string): void {
  const parts = path.split('/');
  if (path === '' || path.startsWith('/') || path.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new StageOutputError(`${where}: file path '${path}' must be relative, '/'-separated, without '.' or '..' segments`);
  }
}
