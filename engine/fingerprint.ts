/**
 * Code fingerprints: what code a stage's numbers depend on.
 *
 * The fingerprint of a stage module is its transitive LOCAL import closure: every project file
 * reachable through static imports and literal dynamic imports, each contributing the digest of
 * its *compiled* JavaScript (esbuild's TypeScript transform with whitespace minified, which
 * drops comments, formatting and type-only imports, so editing a comment, a type annotation or
 * the layout of a line invalidates nothing; without minifying whitespace esbuild keeps the line
 * breaks inside a call, and a formatter's commit would re-key every stage), plus
 * `name@version` of every bare package imported (read from node_modules; package internals are
 * not followed). Node built-ins are left out: the Node version is a runtime fact if it matters.
 *
 * Files of the engine itself (this directory) are excluded, and not followed: the engine
 * decides *where* results go and *whether* to run, never *what* a stage computes, so upgrading
 * the scheduler or the store must not invalidate every cached result. (Anything that could
 * change an output's bytes, such as the Arrow encoding, is versioned in KEY_FORMAT, keys.ts.)
 *
 * Parsing: esbuild `transformSync` (TS → JS), then es-module-lexer for the import specifiers.
 * Both the compiled digest and the specifiers are remembered in the stat memo, so an unchanged
 * file is only stat'ed.
 */
import { readFileSync, existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isBuiltin } from 'node:module';
import { transformSync } from 'esbuild';
import { init as initLexer, parse } from 'es-module-lexer';
import { hashBytes, hashJson } from './hash.ts';
import type { StatMemo } from './statmemo.ts';
import { UserError } from './errors.ts';
import type { Digest } from './types.ts';

/** The engine directory (excluded from fingerprints, see above). */
export const ENGINE_DIR = realpathSync(dirname(fileURLToPath(import.meta.url)));

export interface CodeFingerprint {
  /** Digest of {files, packages}: the `code` part of a stage key. */
  digest: Digest;
  /** Project-relative path (or absolute, outside the project) → digest of the compiled code. */
  files: Record<string, string>;
  /** Bare package name → installed version. */
  packages: Record<string, string>;
}

interface ParsedFile {
  digest: string;
  specifiers: string[];
}

export async function initFingerprinting(): Promise<void> {
  await initLexer();
}

export class Fingerprinter {
  private readonly perModule = new Map<string, CodeFingerprint>();
  private readonly packageVersions = new Map<string, string>();

  constructor(
    private readonly root: string,
    private readonly memo: StatMemo,
  ) {}

  /** Fingerprint of the module at `moduleUrl` (a file: URL), memoised per process. */
  fingerprint(moduleUrl: string): CodeFingerprint {
    const hit = this.perModule.get(moduleUrl);
    if (hit) return hit;
    const entry = realpathSync(fileURLToPath(moduleUrl));
    const files: Record<string, string> = {};
    const packages: Record<string, string> = {};
    const seen = new Set<string>();
    const queue = [entry];
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const parsed = this.parseFile(file);
      files[this.displayPath(file)] = parsed.digest;
      for (const spec of parsed.specifiers) {
        if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('file:')) {
          const target = resolveLocal(spec, file);
          if (target.startsWith(ENGINE_DIR + sep)) continue;
          queue.push(target);
        } else if (!isBuiltin(spec)) {
          const name = packageName(spec);
          packages[name] = this.packageVersion(name, file);
        }
      }
    }
    const sorted = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const fp: CodeFingerprint = { digest: hashJson({ files, packages }), files: sorted(files), packages: sorted(packages) };
    this.perModule.set(moduleUrl, fp);
    return fp;
  }

  private displayPath(file: string): string {
    const rel = relative(this.root, file);
    return rel.startsWith('..') ? file : rel.split(sep).join('/');
  }

  private parseFile(file: string): ParsedFile {
    // The memo kind names the transform: a memo written with other transform options is not reused.
    return this.memo.lookup<ParsedFile>(file, 'code-ws', () => {
      const text = readFileSync(file, 'utf8');
      const ext = extname(file);
      if (ext === '.json') return { digest: hashBytes(text), specifiers: [] };
      let js: string;
      try {
        js = transformSync(text, {
          loader: loaderFor(ext),
          format: 'esm',
          target: 'esnext',
          sourcefile: file,
          legalComments: 'none',
          minifyWhitespace: true,
        }).code;
      } catch (err) {
        throw new UserError(`cannot parse ${file} to fingerprint it: ${(err as Error).message.split('\n')[0]}`);
      }
      const [imports] = parse(js, file);
      const specifiers = new Set<string>();
      for (const imp of imports) {
        if (typeof imp.specifier === 'string') specifiers.add(imp.specifier);
      }
      return { digest: hashBytes(js), specifiers: [...specifiers].sort() };
    });
  }

  private packageVersion(name: string, fromFile: string): string {
    const cacheKey = name + '\0' + dirname(fromFile);
    const hit = this.packageVersions.get(cacheKey);
    if (hit) return hit;
    // Node's lookup: node_modules of the importing file's directory and its parents; then the
    // engine's own (a project outside the repo tree, e.g. in tests, runs on the engine's packages).
    let version = 'unresolved';
    for (const start of [dirname(fromFile), ENGINE_DIR]) {
      const found = findPackageJson(start, name);
      if (found) {
        try {
          version = String(JSON.parse(readFileSync(found, 'utf8')).version ?? 'unknown');
        } catch {}
        break;
      }
    }
    this.packageVersions.set(cacheKey, version);
    return version;
  }
}

function findPackageJson(start: string, name: string): string | undefined {
  for (let dir = start; ; ) {
    const pj = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(pj)) return pj;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function loaderFor(ext: string): 'ts' | 'tsx' | 'js' | 'jsx' {
  switch (ext) {
    case '.ts':
    case '.mts':
    case '.cts':
      return 'ts';
    case '.tsx':
      return 'tsx';
    case '.jsx':
      return 'jsx';
    default:
      return 'js';
  }
}

/** `@scope/pkg/sub/path` → `@scope/pkg`; `pkg/sub` → `pkg`. */
function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Resolve a relative import the way tsx/Node would for this project (explicit extensions first). */
function resolveLocal(spec: string, fromFile: string): string {
  const base = spec.startsWith('file:') ? fileURLToPath(spec) : spec.startsWith('/') ? spec : join(dirname(fromFile), spec.split('?')[0]);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base + '.ts', join(base, 'index.ts'), base + '.js', join(base, 'index.js')];
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return realpathSync(c);
    } catch {}
  }
  throw new UserError(`${fromFile} imports '${spec}', which does not exist (looked for ${candidates.slice(0, 3).join(', ')})`);
}
