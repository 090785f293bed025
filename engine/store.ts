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
import { open, readFile, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';

// apache-arrow takes ~0.4 s to load; a no-op run never encodes or decodes a table, so load it on first use.
let arrowModule: Promise<typeof import('apache-arrow')> | undefined;
const arrow = () => (arrowModule ??= import('apache-arrow'));
import { hashBytes, hashJson, canonicalJson } from './hash.ts';
import { writeFileAtomic, writeFileAtomicSync } from './fsutil.ts';
import { DamagedObjectError, StageOutputError } from './errors.ts';
import type { Axes, CheckpointStore, Digest, FileTree, InputArtifact, Metrics, OutputKind, OutputValue, StageKey } from './types.ts';
import type { KeyParts } from './keys.ts';

/** One stored output of a run. */
export interface OutputRecord {
  kind: OutputKind;
  digest: Digest;
  size: number;
}

/** Why a run record is not a cache hit: one of its outputs is missing or has the wrong size. */
export interface OutputDamage {
  /** Output name (`name/path` for a file of a `files` output). */
  output: string;
  digest: Digest;
  problem: 'missing' | 'corrupt';
  detail: string;
}

/** `missing object <digest> (output 'weights')`, as `status` and `repro` say it. */
export function describeDamage(d: OutputDamage): string {
  return `${d.problem} object ${d.digest} (output '${d.output}'${d.detail ? `: ${d.detail}` : ''})`;
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
  constructor(
    readonly root: string,
    readonly durable = true,
  ) {
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
    for (const d of [
      this.objectsDir,
      this.runsDir,
      this.indexDir,
      this.locksDir,
      this.checkpointsDir,
      this.downloadsRoot,
      this.logsDir,
      this.stateDir,
      this.tmpDir,
    ]) {
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

  /**
   * The bytes of an object, checked as they are read: their length against `size` (when the
   * caller knows it) and their digest against the name. A missing object, or one whose bytes
   * are not the named ones, throws DamagedObjectError; a bad copy is first moved to
   * quarantine/, so no reader is ever handed it and recomputing the producer rewrites it.
   */
  async readBytes(digest: string, size?: number): Promise<Uint8Array> {
    const path = this.objectPath(digest);
    let bytes: Uint8Array;
    let identity: { dev: number; ino: number };
    try {
      const fh = await open(path, 'r');
      try {
        identity = await fh.stat();
        bytes = new Uint8Array(await fh.readFile());
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new DamagedObjectError(digest, 'missing', `not in ${this.objectsDir}`);
      throw err;
    }
    let detail: string | undefined;
    if (size !== undefined && bytes.length !== size) detail = `${bytes.length} bytes, its run record says ${size}`;
    else {
      const actual = hashBytes(bytes);
      if (actual !== digest) detail = `its bytes hash to ${actual}`;
    }
    if (detail === undefined) return bytes;
    const movedTo = this.quarantineIfSame(digest, identity);
    throw new DamagedObjectError(digest, 'corrupt', detail + (movedTo ? `; moved to ${movedTo}` : ''));
  }

  /**
   * Quarantine the object only if the file under its name is still the one that was read: a
   * producer recomputed meanwhile may have put a good copy there, which must stay.
   */
  private quarantineIfSame(digest: string, read: { dev: number; ino: number }): string | undefined {
    try {
      const now = statSync(this.objectPath(digest));
      if (now.dev !== read.dev || now.ino !== read.ino) return undefined;
      return this.quarantine(digest);
    } catch {
      return undefined; // another reader moved it first
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
        return (await arrow()).tableFromIPC(await store.readBytes(rec.digest, rec.size));
      },
      bytes: () => store.readBytes(rec.digest, rec.size),
      async files(): Promise<Record<string, Uint8Array>> {
        if (rec.kind !== 'files') throw new Error(`artifact ${rec.digest} is '${rec.kind}', not a file tree`);
        const manifest = await store.readManifest(rec.digest, rec.size);
        const out: Record<string, Uint8Array> = {};
        for (const [path, f] of Object.entries(manifest.files)) out[path] = await store.readBytes(f.digest, f.size);
        return out;
      },
    };
  }

  async readManifest(digest: string, size?: number): Promise<FilesManifest> {
    return JSON.parse(new TextDecoder().decode(await this.readBytes(digest, size))) as FilesManifest;
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

  /** A record counts as a cache hit only if its output objects are all present with their recorded sizes. */
  getValidRun(key: string): RunRecord | undefined {
    return this.checkRun(key).record;
  }

  /**
   * The cache-hit check: the record of `key`, if every output object (and every file of a
   * `files` output) exists with its recorded size; otherwise the first damaged output. Sizes
   * only (a stat each): the bytes are checked against their digest when they are read.
   */
  checkRun(key: string): { record?: RunRecord; damage?: OutputDamage } {
    const rec = this.getRun(key);
    if (!rec) return {};
    for (const [output, o] of Object.entries(rec.outputs)) {
      const damage = this.checkObject(o.digest, o.size, output);
      if (damage) return { damage };
      if (o.kind !== 'files') continue;
      let manifest: FilesManifest;
      try {
        manifest = JSON.parse(readFileSync(this.objectPath(o.digest), 'utf8')) as FilesManifest;
      } catch {
        return { damage: { output, digest: o.digest, problem: 'corrupt', detail: 'its file manifest does not parse' } };
      }
      for (const [path, f] of Object.entries(manifest.files ?? {})) {
        const bad = this.checkObject(f.digest, f.size, `${output}/${path}`);
        if (bad) return { damage: bad };
      }
    }
    return { record: rec };
  }

  private checkObject(digest: Digest, size: number, output: string): OutputDamage | undefined {
    let actual: number;
    try {
      actual = statSync(this.objectPath(digest)).size;
    } catch {
      return { output, digest, problem: 'missing', detail: '' };
    }
    return actual === size ? undefined : { output, digest, problem: 'corrupt', detail: `${actual} bytes, recorded ${size}` };
  }

  async putRun(rec: RunRecord): Promise<void> {
    await writeFileAtomic(this.runPath(rec.key), JSON.stringify(rec, null, 1), { tmpDir: this.tmpDir, durable: this.durable });
    await writeFileAtomic(join(this.indexDir, slotId(rec.stage, rec.axes, rec.role, rec.shard?.index)), rec.key, {
      tmpDir: this.tmpDir,
      durable: this.durable,
    });
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

  /**
   * The checkpoint store of one instance. Each save is framed with the instance key and the
   * digest and size of its content (CHECKPOINT_MAGIC, see below), written whole as
   * checkpoint.next.bin, then renamed into place, the previous save kept as checkpoint.prev.bin.
   * `load` returns the newest save that passes its check and discards (with `notice`) any that
   * does not, so a run never resumes from damaged bytes.
   */
  checkpoint(key: string, notice: (line: string) => void = () => {}): CheckpointStore {
    const dir = join(this.checkpointsDir, key);
    const file = join(dir, 'checkpoint.bin');
    const next = join(dir, 'checkpoint.next.bin');
    const previous = join(dir, 'checkpoint.prev.bin');
    const store = this;
    return {
      async load() {
        // Newest first: a save interrupted between its renames leaves `next` (complete) in place.
        for (const path of [next, file, previous]) {
          let framed: Uint8Array;
          try {
            framed = new Uint8Array(await readFile(path));
          } catch {
            continue;
          }
          const checked = unframeCheckpoint(framed, key);
          if (typeof checked !== 'string') return checked;
          notice(`discarded checkpoint ${path}: ${checked}`);
          await rm(path, { force: true });
        }
        return undefined;
      },
      async save(bytes: Uint8Array) {
        await mkdir(dir, { recursive: true });
        await writeFileAtomic(next, frameCheckpoint(bytes, key), { tmpDir: store.tmpDir, durable: store.durable });
        try {
          renameSync(file, previous);
        } catch {}
        renameSync(next, file);
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
      if (!m || isAlive(Number(m[1]))) continue;
      try {
        unlinkSync(join(this.tmpDir, n));
        removed++;
      } catch {}
    }
    return removed;
  }
}

/**
 * Checkpoint framing: the 8 bytes CHECKPOINT_MAGIC, a uint32 (little-endian) header length, the
 * header as JSON {key, size, digest} (digest = XXH128 of the content), then the content.
 */
const CHECKPOINT_MAGIC = 'NNCKPT01';

function frameCheckpoint(content: Uint8Array, key: string): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ key, size: content.length, digest: hashBytes(content) }));
  const out = new Uint8Array(12 + header.length + content.length);
  out.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  out.set(content, 12 + header.length);
  return out;
}

/** The content of a framed checkpoint, or why it cannot be trusted. */
function unframeCheckpoint(framed: Uint8Array, key: string): Uint8Array | string {
  if (framed.length < 12 || new TextDecoder().decode(framed.subarray(0, 8)) !== CHECKPOINT_MAGIC) return 'not a checkpoint of this engine (bad magic)';
  const headerLength = new DataView(framed.buffer, framed.byteOffset).getUint32(8, true);
  let header: { key?: unknown; size?: unknown; digest?: unknown };
  try {
    header = JSON.parse(new TextDecoder().decode(framed.subarray(12, 12 + headerLength)));
  } catch {
    return 'unreadable header';
  }
  if (header.key !== key) return `it belongs to instance key ${String(header.key)}`;
  const content = framed.subarray(12 + headerLength);
  if (content.length !== header.size) return `${content.length} bytes of content, its header says ${String(header.size)}`;
  const actual = hashBytes(content);
  if (actual !== header.digest) return `its content hashes to ${actual}, its header says ${String(header.digest)}`;
  return content;
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
