/** Run `repro` on a test project in this thread (inline executor, no progress output): what the stage-level end-to-end tests share. */
import { InlineExecutor } from '../../engine/executor.ts';
import { createProgress } from '../../engine/progress.ts';
import { repro, type ReproSummary } from '../../engine/scheduler.ts';
import { Session } from '../../engine/session.ts';

export async function reproInline(project: Parameters<typeof Session.open>[0], overrides: string[] = []): Promise<ReproSummary> {
  const session = await Session.open(project, { overrides, durable: false });
  const progress = createProgress({ stream: { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, tty: false });
  try {
    return await repro(session, { jobs: 1, progress, executor: new InlineExecutor(session.graph.byName) });
  } finally {
    progress.close();
    session.close();
  }
}
