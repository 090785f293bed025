// Entry of the engine's worker threads (piscina). Worker threads do not inherit tsx's module
// hooks from the main thread on Node 20, so register tsx here before loading any .ts module
// (stage modules and engine/worker.ts).
import { register } from 'tsx/esm/api';

register();
const { default: runTask } = await import('./worker.ts');
export default runTask;
