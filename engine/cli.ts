/**
 * The engine's command line: `repro`, `status`, `timings`, `dag`, `gc`, `verify`, plus the project's own
 * verbs (CommandPlugins). Expected failures print one clean line and exit non-zero:
 * params problems exit 2 (nothing runs), other user errors exit 1, an interrupted run 130/143.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Command, Option } from 'commander';
import { Session, type SessionOptions } from './session.ts';
import { repro, type ReproSummary } from './scheduler.ts';
import { computeStatus, type InstanceStatus } from './status.ts';
import { summarizeTimings, timingsMarkdown } from './timings.ts';
import { gc, keysInUse, verify } from './maintenance.ts';
import { Store } from './store.ts';
import { initHashing } from './hash.ts';
import { orderStages } from './graph.ts';
import { createProgress, type ProgressReporter } from './progress.ts';
import { releaseAllLocks } from './lock.ts';
import { InterruptedError, UserError, isUserFacing } from './errors.ts';
import { chooseParams, describeChoice, readProfiles, rememberProfile, type ParamsChoice } from './profiles.ts';
import { calibrateMissing, estimatePlan, ratesFromRecords, storeRecords, type RunEstimate } from './estimate.ts';
import { formatEstimate, formatPlanSummary, formatStatusSummary, formatRanSummary } from './summaries.ts';
import type { PipelineProject } from './project.ts';
import { withDistributedOptions, distributedExecutor, registerWorkerCommand, type DistributedOptions } from './distributed/cli.ts';

interface ParamsOpts {
  params?: string;
  set?: string[];
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function withParamsOptions(cmd: Command): Command {
  return cmd
    .option('--params <file>', 'params file to use instead of the project default')
    .option('-S, --set <key=value>', 'override one param, e.g. -S cluster.k=[2,4] (repeatable)', collect);
}

function sessionOptions(o: ParamsOpts, targets: string[] = []): SessionOptions {
  return { paramsFile: o.params, overrides: o.set ?? [], targets };
}

/** Progress of the planning pass: nothing to show. */
const SILENT: ProgressReporter = { start() {}, update() {}, finish() {}, log() {}, setTotal() {}, close() {} };

const stateDirOf = (project: PipelineProject) => join(project.root, 'artifacts', 'state');

/**
 * For the inspecting verbs: the params file they describe (--params, else the last repro's,
 * else the project default), announced on their first line (stderr when stdout is data).
 */
function inspectedParams(project: PipelineProject, o: ParamsOpts, toStderr = false): ParamsOpts {
  const choice: ParamsChoice = chooseParams(project.root, stateDirOf(project), o.params, project.paramsFile);
  const line = describeChoice(choice) + (o.set?.length ? `, with ${o.set.map((x) => `-S ${x}`).join(' ')}` : '');
  (toStderr ? process.stderr : process.stdout).write(line + '\n');
  return { ...o, params: choice.file };
}

/** Every instance's status under these params (what `status` and `timings` read). */
async function statusOf(project: PipelineProject, o: ParamsOpts, stages: string[]): Promise<InstanceStatus[]> {
  const session = await Session.open(project, sessionOptions(o, stages));
  try {
    return await computeStatus(session);
  } finally {
    session.close();
  }
}

/** Build the program (exported for tests and for projects that want to extend it further). */
export function buildProgram(project: PipelineProject): Command {
  const program = new Command(project.name)
    .description('Run and inspect the content-hashed stage pipeline (stages in stages/, params in ' + project.paramsFile + ').')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  registerRepro(program, project);
  registerStatus(program, project);
  registerTimings(program, project);
  registerDag(program, project);
  registerGc(program, project);
  registerVerify(program, project);
  registerWorkerCommand(program, project);
  for (const plugin of project.commands ?? []) plugin(program, project);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

type ReproCliOptions = ParamsOpts & DistributedOptions & { dryRun?: boolean; force?: boolean | string; jobs: number; keepGoing?: boolean; verbose?: boolean };

/** `repro [stage...]`: its options; the run itself is runRepro. */
function registerRepro(program: Command, project: PipelineProject): void {
  withDistributedOptions(
    withParamsOptions(
      program
        .command('repro')
        .description('run every stage instance whose inputs, params or code changed (all stages, or the named ones and their upstream)')
        .argument('[stage...]', 'stages to bring up to date (default: all)')
        .option('-n, --dry-run', 'show what would run and why, run nothing')
        .option('-f, --force [stage]', 'recompute even if cached: all selected stages, or only STAGE (comma-separated list allowed)')
        .addOption(new Option('-j, --jobs <n>', 'instances to run at once').default(availableParallelism(), 'number of cores').argParser(positiveInt('--jobs')))
        .option('-k, --keep-going', 'continue with independent instances after a failure')
        .option('-v, --verbose', '--dry-run: list every instance (and shard) that would run, not a summary per stage'),
    ),
  ).action((stages: string[], o: ReproCliOptions, cmd: Command) => runRepro(project, stages, o, cmd));
}

/**
 * `repro`: plan (a dry pass that also publishes cache hits, so when nothing is to run it is the
 * whole run), print the estimate, then run with live progress until done or interrupted.
 */
async function runRepro(project: PipelineProject, stages: string[], o: ReproCliOptions, cmd: Command): Promise<void> {
  const session = await Session.open(project, sessionOptions(o, stages));
  const force = o.force === true ? true : typeof o.force === 'string' ? o.force.split(',').filter(Boolean) : false;
  if (Array.isArray(force)) for (const f of force) if (!session.graph.byName.has(f)) throw new UserError(`--force: unknown stage '${f}'`);
  const remote = o.dryRun ? undefined : await distributedExecutor(session, o, cmd.getOptionValueSource('jobs') === 'cli');
  const jobs = remote?.jobs ?? o.jobs;
  const plan = await repro(session, { force, dryRun: true, publishCached: !o.dryRun, jobs, progress: SILENT });
  const estimate = await estimateRun(session, plan, jobs);
  if (o.dryRun) {
    process.stdout.write(
      formatPlanSummary(plan, estimate, { params: session.paramsName, stages: session.graph.stages.map((d) => d.name), verbose: !!o.verbose }),
    );
    return;
  }
  rememberProfile(stateDirOf(project), session.paramsName);
  if (plan.plan.length === 0 && plan.failed.length === 0) {
    console.log(formatRanSummary(plan));
    return;
  }
  console.log(formatEstimate(estimate, session.paramsName, plan.plan.length));
  const progress = createProgress({ stream: process.stdout, estimates: estimate.unitMs, jobs, planned: plan.plan.length });
  const summary = await interruptible(progress, (signal) =>
    repro(session, { force, jobs, keepGoing: o.keepGoing, signal, progress, executor: remote?.executor }),
  );
  for (const f of summary.failed) console.error(`failed ${f.id}: ${f.message}${f.log ? ` (stack: ${f.log})` : ''}`);
  console.log(formatRanSummary(summary));
  if (summary.failed.length) process.exitCode = 1;
}

/**
 * Run with SIGINT/SIGTERM turned into an abort of `signal` (in-flight work is dropped); a second
 * signal exits at once. Throws InterruptedError when the run was interrupted.
 */
async function interruptible(progress: ProgressReporter, run: (signal: AbortSignal) => Promise<ReproSummary>): Promise<ReproSummary> {
  const controller = new AbortController();
  let signalName = '';
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      // Second signal: stop now (locks are released by the exit handler).
      process.exit(sig === 'SIGTERM' ? 143 : 130);
    }
    signalName = sig;
    progress.log(`${sig}: stopping; in-flight work is dropped`);
    controller.abort(new InterruptedError(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let summary: ReproSummary;
  try {
    summary = await run(controller.signal);
  } finally {
    progress.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (summary.interrupted) throw new InterruptedError(signalName || 'SIGINT');
  return summary;
}

/** `status [stage...]`: a summary per stage, one line per instance, or JSON. */
function registerStatus(program: Command, project: PipelineProject): void {
  withParamsOptions(
    program
      .command('status')
      .description('show every stage instance: up to date or stale, and why')
      .argument('[stage...]', 'only these stages (and their upstream)')
      .option('--json', 'machine-readable output')
      .option('-v, --verbose', 'one line per instance instead of a summary per stage'),
  ).action(async (stages: string[], o: ParamsOpts & { json?: boolean; verbose?: boolean }) => {
    const list = await statusOf(project, inspectedParams(project, o, !!o.json), stages);
    if (o.json) {
      const rows = list.map(({ record, shards, ...s }) => ({
        ...s,
        ...(record ? { outputs: record.outputs, metrics: record.metrics, finishedAt: record.timings.finishedAt } : {}),
        ...(shards ? { shards: { needed: shards.needed, stored: shards.stored } } : {}),
      }));
      process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      return;
    }
    if (o.verbose) printStatus(list);
    else process.stdout.write(formatStatusSummary(list));
  });
}

/** `timings [stage...]`: compute time and span per stage, Markdown or JSON. */
function registerTimings(program: Command, project: PipelineProject): void {
  withParamsOptions(
    program
      .command('timings')
      .description('how long each stage took: compute time and wall-clock span of the runs behind the current params')
      .argument('[stage...]', 'only these stages (and their upstream)')
      .option('--json', 'machine-readable output'),
  ).action(async (stages: string[], o: ParamsOpts & { json?: boolean }) => {
    const summary = summarizeTimings(await statusOf(project, inspectedParams(project, o, !!o.json), stages));
    process.stdout.write(o.json ? JSON.stringify(summary, null, 2) + '\n' : timingsMarkdown(summary));
  });
}

/** `dag`: the stage graph as text, Mermaid or Graphviz dot. */
function registerDag(program: Command, project: PipelineProject): void {
  withParamsOptions(
    program
      .command('dag')
      .description('show the stage graph (with instance counts for the current params)')
      .addOption(new Option('--mermaid', 'Mermaid flowchart').conflicts('dot'))
      .option('--dot', 'Graphviz dot'),
  ).action(async (o: ParamsOpts & { mermaid?: boolean; dot?: boolean }) => {
    const session = await Session.open(project, sessionOptions(inspectedParams(project, o, !!(o.mermaid || o.dot))));
    const stages = session.graph.stages;
    const count = (name: string) => session.graph.instances.get(name)?.length ?? 0;
    const lines: string[] = [];
    if (o.mermaid) {
      lines.push('flowchart TD');
      for (const s of stages) lines.push(`  ${mid(s.name)}["${s.name} ×${count(s.name)}"]`);
      for (const s of stages) for (const d of s.deps) lines.push(`  ${mid(d)} --> ${mid(s.name)}`);
    } else if (o.dot) {
      lines.push('digraph pipeline {', '  rankdir=TB;', '  node [shape=box];');
      for (const s of stages) lines.push(`  "${s.name}" [label="${s.name}\\n×${count(s.name)}"];`);
      for (const s of stages) for (const d of s.deps) lines.push(`  "${d}" -> "${s.name}";`);
      lines.push('}');
    } else {
      for (const s of stages)
        lines.push(`${s.name} (${count(s.name)} instance${count(s.name) === 1 ? '' : 's'})${s.deps.length ? ' ← ' + s.deps.join(', ') : ''}`);
    }
    session.close();
    process.stdout.write(lines.join('\n') + '\n');
  });
}

/** `gc`: keep what this and every remembered params file use (see docs/engine.md), delete the rest. */
function registerGc(program: Command, project: PipelineProject): void {
  withParamsOptions(
    program
      .command('gc')
      .description('delete run records and objects that neither the params file nor any other params file a repro used here needs')
      .option('--all-runs', 'keep every recorded run; delete only objects no run record references')
      .option('--all', "also delete what other remembered params files use (keep only this params file's results)")
      .option('-n, --dry-run', 'report what would be deleted'),
  ).action(async (o: ParamsOpts & { allRuns?: boolean; all?: boolean; dryRun?: boolean }) => {
    const session = await Session.open(project, sessionOptions(inspectedParams(project, o)));
    const others = o.all || o.allRuns ? [] : Object.keys(readProfiles(stateDirOf(project)).used).filter((f) => f !== session.paramsName);
    const alsoKeep = await keysOfProfiles(project, others);
    if (others.length)
      console.log(`gc: also keeping what ${others.join(', ')} use${others.length === 1 ? 's' : ''} (remembered from earlier repro runs; --all to drop them)`);
    const r = await gc(session, { allRuns: o.allRuns, dryRun: o.dryRun, alsoKeep });
    session.close();
    const verb = o.dryRun ? 'would remove' : 'removed';
    console.log(
      `gc: ${verb} ${r.removedRuns} run records and ${r.removedObjects} objects (${mb(r.removedBytes)}); kept ${r.keptRuns} run records and ${r.keptObjects} objects`,
    );
  });
}

/** `verify`: re-hash every stored object, quarantine corrupt ones (exit 1 if any). */
function registerVerify(program: Command, project: PipelineProject): void {
  program
    .command('verify')
    .description('re-hash every stored object; quarantine corrupt ones so the next repro recomputes them')
    .action(async () => {
      await initHashing();
      const store = new Store(join(project.root, 'artifacts')).init();
      const r = await verify(store);
      if (r.corrupt.length === 0 && r.droppedRuns.length === 0) {
        console.log(`verify: ${r.objects} objects (${mb(r.bytes)}) OK`);
        return;
      }
      for (const c of r.corrupt) console.log(`corrupt: ${c.digest} (content hashes to ${c.actual}) → ${c.movedTo}`);
      console.log(
        `verify: ${r.corrupt.length} corrupt object(s) of ${r.objects} quarantined; dropped ${r.droppedRuns.length} run record(s) that used missing or corrupt objects. ` +
          'Run `repro` to recompute them.',
      );
      process.exitCode = 1;
    });
}

/** Run the CLI on process.argv (or `argv`, without node and script). Sets process.exitCode. */
export async function runCli(project: PipelineProject, argv?: string[]): Promise<void> {
  // Release our locks however the process ends (a SIGKILL can't be caught: the next run
  // recovers those locks because our pid is gone).
  process.once('exit', releaseAllLocks);
  try {
    orderStages(project.stages);
    const program = buildProgram(project);
    await program.parseAsync(argv ?? process.argv.slice(2), { from: 'user' });
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

function reportError(err: unknown): number {
  const e = err as { code?: string; exitCode?: number; message?: string };
  // Commander has already printed its own message (usage errors) or help/version output.
  if (typeof e?.code === 'string' && e.code.startsWith('commander.')) {
    return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : (e.exitCode ?? 1);
  }
  if (isUserFacing(err)) {
    process.stderr.write(`error: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`internal error (a bug, please report it):\n${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}

function positiveInt(flag: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a positive integer, got '${v}'`);
    return n;
  };
}

/** Rates from this store's run records (or a short calibration of stages that have none), applied to a dry run's plan. */
async function estimateRun(session: Session, plan: ReproSummary, jobs: number): Promise<RunEstimate> {
  const rates = ratesFromRecords(storeRecords(session.store), session.graph.byName);
  await calibrateMissing(plan.plan, rates);
  return estimatePlan(plan.plan, rates, jobs);
}

/** Record keys the given remembered params files use (so gc keeps them). */
async function keysOfProfiles(project: PipelineProject, files: string[]): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const file of files) {
    let session: Session;
    try {
      session = await Session.open(project, { paramsFile: file });
    } catch (err) {
      if (!existsSync(isAbsolute(file) ? file : join(project.root, file))) continue; // gone: nothing of it to keep
      throw new UserError(
        `gc: cannot read ${file}, which an earlier repro used, so gc cannot tell what it needs (${(err as Error).message.split('\n')[0]}); fix it, or pass --all to keep only this params file's results`,
      );
    }
    for (const k of await keysInUse(session)) keep.add(k);
    session.close();
  }
  return keep;
}

function printStatus(list: InstanceStatus[]): void {
  const label: Record<InstanceStatus['state'], string> = { 'up-to-date': 'up to date', stale: 'stale', 'never-run': 'never run', 'upstream-stale': 'waiting' };
  for (const s of list) {
    const why = s.reasons.length && s.state !== 'never-run' ? ': ' + s.reasons.join('; ') : '';
    console.log(`${label[s.state].padEnd(10)}  ${s.id}${why}`);
  }
  const n = (st: InstanceStatus['state']) => list.filter((s) => s.state === st).length;
  console.log(`${n('up-to-date')} up to date, ${n('stale')} stale, ${n('never-run')} never run, ${n('upstream-stale')} waiting on upstream`);
}

function mid(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
