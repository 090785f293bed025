/**
 * A restricted unpickler for PyTorch state dicts (the `data.pkl` of a `torch.save` zip). It
 * implements only the opcodes pickle protocols 2–5 use for dicts, tuples, lists, strings and
 * numbers, and resolves only the globals a state dict names: collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2 / _rebuild_parameter and the torch.*Storage types. Any other
 * global (a model class, os.system, …) is refused before anything is called: unpickling
 * arbitrary globals runs arbitrary code (see the Python docs of `pickle`, "Restricting Globals").
 * Opcode semantics: CPython Lib/pickletools.py; the dispatch tables follow Lib/pickle.py `_Unpickler`.
 */
import { ModelFormatError, type DType } from './tensor.ts';

/** A storage as a persistent id names it: bytes come from the zip entry `data/<key>`. */
export interface StorageRef {
  kind: 'storage';
  dtype: DType;
  key: string;
  numel: number;
}

/** A tensor as _rebuild_tensor_v2 describes it: a strided view of a storage. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

export type PickleValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | Map<PickleValue, PickleValue>
  | TensorRef
  | StorageRef
  | PickleGlobal;

export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
}

class PickleGlobal {
  constructor(readonly name: string) {}
}

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const ALLOWED_CALLS = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter']);

function resolveGlobal(module: string, name: string, source: string): PickleGlobal {
  const full = `${module}.${name}`;
  if (ALLOWED_CALLS.has(full) || (module === 'torch' && name in STORAGE_DTYPES)) return new PickleGlobal(full);
  throw new ModelFormatError(
    `${source}: refusing the pickled global '${full}': only state dicts (tensors in an OrderedDict) are read, since unpickling other globals can run code. Save model.state_dict(), not the model`,
  );
}

const items = (v: PickleValue): PickleValue[] => (v instanceof PickleTuple ? v.items : Array.isArray(v) ? v : []);

function callGlobal(fn: PickleGlobal, args: PickleValue[], source: string): PickleValue {
  switch (fn.name) {
    case 'collections.OrderedDict':
      return new Map();
    case 'torch._utils._rebuild_parameter':
      return args[0];
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, offset, size, stride] = args;
      if (!storage || typeof storage !== 'object' || (storage as StorageRef).kind !== 'storage' || typeof offset !== 'number')
        throw new ModelFormatError(`${source}: malformed tensor record in data.pkl`);
      return { kind: 'tensor', storage: storage as StorageRef, offset, shape: items(size) as number[], stride: items(stride) as number[] };
    }
  }
  throw new ModelFormatError(`${source}: '${fn.name}' cannot be called`);
}

function persistentLoad(pid: PickleValue, source: string): StorageRef {
  const t = items(pid);
  const type = t[1];
  if (t[0] !== 'storage' || !(type instanceof PickleGlobal) || typeof t[2] !== 'string')
    throw new ModelFormatError(`${source}: unsupported persistent id in data.pkl (expected a torch storage)`);
  return { kind: 'storage', dtype: STORAGE_DTYPES[type.name.slice('torch.'.length)], key: t[2], numel: Number(t[4]) };
}

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {}
  need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new ModelFormatError(`${this.source}: data.pkl ends early (truncated or corrupt)`);
  }
  byte(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  uint(n: number): number {
    const b = this.take(n);
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i];
    return v;
  }
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw new ModelFormatError(`${this.source}: data.pkl ends early (truncated or corrupt)`);
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return s;
  }
}

function signedLittleEndian(b: Uint8Array): number {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return Number(v);
}

/**
 * The unpickler's state, as CPython's pickle.py `_Unpickler` keeps it: the stack, the marks
 * (its metastack) and the memo. The helpers raise a ModelFormatError where a corrupt pickle
 * would otherwise read past them.
 */
class PickleMachine {
  readonly stack: PickleValue[] = [];
  readonly marks: number[] = [];
  readonly memo = new Map<number, PickleValue>();
  constructor(
    readonly r: Reader,
    readonly source: string,
  ) {}
  push(v: PickleValue): void {
    this.stack.push(v);
  }
  pop(): PickleValue {
    if (this.stack.length === 0) throw new ModelFormatError(`${this.source}: corrupt data.pkl (stack underflow)`);
    return this.stack.pop()!;
  }
  /** The items pushed since the last MARK, removed from the stack. */
  popMark(): PickleValue[] {
    const m = this.marks.pop();
    if (m === undefined) throw new ModelFormatError(`${this.source}: corrupt data.pkl (no mark)`);
    return this.stack.splice(m);
  }
  top(): PickleValue {
    if (this.stack.length === 0) throw new ModelFormatError(`${this.source}: corrupt data.pkl (stack underflow)`);
    return this.stack[this.stack.length - 1];
  }
  setItems(d: PickleValue, kv: PickleValue[]): void {
    if (!(d instanceof Map)) throw new ModelFormatError(`${this.source}: corrupt data.pkl (SETITEM on a non-dict)`);
    for (let i = 0; i + 1 < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  }
  /** n bytes of UTF-8 text. */
  text(n: number): string {
    return new TextDecoder().decode(this.r.take(n));
  }
}

/** What one opcode does (an entry of pickle.py's `dispatch`); `op` tells apart the opcodes that share an action. */
type OpAction = (m: PickleMachine, op: number) => void;

/** Framing, and the containers a state dict is made of: dicts, lists, tuples, the marks that delimit their items. */
const CONTAINER_OPS: [number, OpAction][] = [
  [0x80, (m) => void m.r.byte()], // PROTO
  [0x95, (m) => void m.r.take(8)], // FRAME
  [0x7d, (m) => m.push(new Map())], // EMPTY_DICT
  [0x5d, (m) => m.push([])], // EMPTY_LIST
  [0x29, (m) => m.push(new PickleTuple([]))], // EMPTY_TUPLE
  [0x28, (m) => void m.marks.push(m.stack.length)], // MARK
  [0x74, (m) => m.push(new PickleTuple(m.popMark()))], // TUPLE
  [0x85, (m) => m.push(new PickleTuple([m.pop()]))], // TUPLE1
  [
    0x86, // TUPLE2
    (m) => {
      const b = m.pop();
      m.push(new PickleTuple([m.pop(), b]));
    },
  ],
  [
    0x87, // TUPLE3
    (m) => {
      const c = m.pop();
      const b = m.pop();
      m.push(new PickleTuple([m.pop(), b, c]));
    },
  ],
  [
    0x73, // SETITEM
    (m) => {
      const v = m.pop();
      const k = m.pop();
      m.setItems(m.top(), [k, v]);
    },
  ],
  [
    0x75, // SETITEMS
    (m) => {
      const kv = m.popMark();
      m.setItems(m.top(), kv);
    },
  ],
  [
    0x61, // APPEND
    (m) => {
      const v = m.pop();
      const l = m.top();
      if (Array.isArray(l)) l.push(v);
    },
  ],
  [
    0x65, // APPENDS
    (m) => {
      const vs = m.popMark();
      const l = m.top();
      if (Array.isArray(l)) l.push(...vs);
    },
  ],
  [0x62, (m) => void m.pop()], // BUILD: state (an OrderedDict's _metadata) is not needed
];

/** The memo: pickle's back-references to values already built (shared storages, repeated keys). */
const MEMO_OPS: [number, OpAction][] = [
  [0x71, (m) => void m.memo.set(m.r.uint(1), m.top())], // BINPUT
  [0x72, (m) => void m.memo.set(m.r.uint(4), m.top())], // LONG_BINPUT
  [0x94, (m) => void m.memo.set(m.memo.size, m.top())], // MEMOIZE
  [0x68, memoGet], // BINGET
  [0x6a, memoGet], // LONG_BINGET
];

function memoGet(m: PickleMachine, op: number): void {
  const k = m.r.uint(op === 0x68 ? 1 : 4);
  if (!m.memo.has(k)) throw new ModelFormatError(`${m.source}: corrupt data.pkl (memo ${k} unset)`);
  m.push(m.memo.get(k)!);
}

/** Scalars: strings, bytes, integers, floats, booleans, None. */
const SCALAR_OPS: [number, OpAction][] = [
  [0x58, (m) => m.push(m.text(m.r.uint(4)))], // BINUNICODE
  [0x8c, (m) => m.push(m.text(m.r.uint(1)))], // SHORT_BINUNICODE
  [0x8d, (m) => m.push(m.text(m.r.uint(8)))], // BINUNICODE8
  [0x43, (m) => m.push(m.r.take(m.r.uint(1)).slice())], // SHORT_BINBYTES
  [0x42, (m) => m.push(m.r.take(m.r.uint(4)).slice())], // BINBYTES
  [0x4a, (m) => m.push(signedLittleEndian(m.r.take(4)))], // BININT
  [0x4b, (m) => m.push(m.r.uint(1))], // BININT1
  [0x4d, (m) => m.push(m.r.uint(2))], // BININT2
  [0x8a, (m) => m.push(signedLittleEndian(m.r.take(m.r.uint(1))))], // LONG1
  [0x8b, (m) => m.push(signedLittleEndian(m.r.take(m.r.uint(4))))], // LONG4
  [0x47, (m) => m.push(new DataView(m.r.take(8).slice().buffer).getFloat64(0, false))], // BINFLOAT
  [0x88, (m) => m.push(true)], // NEWTRUE
  [0x89, (m) => m.push(false)], // NEWFALSE
  [0x4e, (m) => m.push(null)], // NONE
];

/** Globals, calls and persistent ids: the only opcodes that could run code, so each goes through the allow-list. */
const GLOBAL_OPS: [number, OpAction][] = [
  [
    0x63, // GLOBAL
    (m) => {
      const module = m.r.line();
      m.push(resolveGlobal(module, m.r.line(), m.source));
    },
  ],
  [
    0x93, // STACK_GLOBAL
    (m) => {
      const name = m.pop();
      const module = m.pop();
      m.push(resolveGlobal(String(module), String(name), m.source));
    },
  ],
  [0x51, (m) => m.push(persistentLoad(m.pop(), m.source))], // BINPERSID
  [
    0x52, // REDUCE
    (m) => {
      const args = m.pop();
      const fn = m.pop();
      if (!(fn instanceof PickleGlobal)) throw new ModelFormatError(`${m.source}: corrupt data.pkl (REDUCE of a non-callable)`);
      m.push(callGlobal(fn, items(args), m.source));
    },
  ],
];

const OPCODES = new Map<number, OpAction>([...CONTAINER_OPS, ...MEMO_OPS, ...SCALAR_OPS, ...GLOBAL_OPS]);
const STOP = 0x2e;

/** Unpickle `bytes` with the restrictions of the module comment. */
export function unpickle(bytes: Uint8Array, source = 'data.pkl'): PickleValue {
  const m = new PickleMachine(new Reader(bytes, source), source);
  for (;;) {
    const op = m.r.byte();
    if (op === STOP) return m.pop();
    const action = OPCODES.get(op);
    if (!action)
      throw new ModelFormatError(
        `${source}: data.pkl uses pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${m.r.pos - 1}, which a state dict does not need; only state dicts are read`,
      );
    action(m, op);
  }
}
