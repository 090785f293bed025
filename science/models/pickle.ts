/**
 * A restricted unpickler for PyTorch state dicts (the `data.pkl` of a `torch.save` zip). It
 * implements only the opcodes pickle protocols 2–5 use for dicts, tuples, lists, strings and
 * numbers, and resolves only the globals a state dict names: collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2 / _rebuild_parameter and the torch.*Storage types. Any other
 * global (a model class, os.system, …) is refused before anything is called: unpickling
 * arbitrary globals runs arbitrary code (see the Python docs of `pickle`, "Restricting Globals").
 * Opcode semantics: CPython Lib/pickletools.py.
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

/** Unpickle `bytes` with the restrictions of the module comment. */
export function unpickle(bytes: Uint8Array, source = 'data.pkl'): PickleValue {
  const r = new Reader(bytes, source);
  const stack: PickleValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  const text = (n: number) => new TextDecoder().decode(r.take(n));
  const pop = (): PickleValue => {
    if (stack.length === 0) throw new ModelFormatError(`${source}: corrupt data.pkl (stack underflow)`);
    return stack.pop()!;
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) throw new ModelFormatError(`${source}: corrupt data.pkl (no mark)`);
    return stack.splice(m);
  };
  const top = (): PickleValue => {
    if (stack.length === 0) throw new ModelFormatError(`${source}: corrupt data.pkl (stack underflow)`);
    return stack[stack.length - 1];
  };
  const setItems = (d: PickleValue, kv: PickleValue[]) => {
    if (!(d instanceof Map)) throw new ModelFormatError(`${source}: corrupt data.pkl (SETITEM on a non-dict)`);
    for (let i = 0; i + 1 < kv.length; i += 2) d.set(kv[i], kv[i + 1]);
  };
  for (;;) {
    const op = r.byte();
    switch (op) {
      case 0x80:
        r.byte();
        break; // PROTO
      case 0x95:
        r.take(8);
        break; // FRAME
      case 0x2e:
        return pop(); // STOP
      case 0x7d:
        stack.push(new Map());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push(new PickleTuple([]));
        break; // EMPTY_TUPLE
      case 0x28:
        marks.push(stack.length);
        break; // MARK
      case 0x74:
        stack.push(new PickleTuple(popMark()));
        break; // TUPLE
      case 0x85:
        stack.push(new PickleTuple([pop()]));
        break; // TUPLE1
      case 0x86: {
        const b = pop();
        stack.push(new PickleTuple([pop(), b]));
        break;
      } // TUPLE2
      case 0x87: {
        const c = pop();
        const b = pop();
        stack.push(new PickleTuple([pop(), b, c]));
        break;
      } // TUPLE3
      case 0x63: {
        const module = r.line();
        stack.push(resolveGlobal(module, r.line(), source));
        break;
      } // GLOBAL
      case 0x93: {
        const name = pop();
        const module = pop();
        stack.push(resolveGlobal(String(module), String(name), source));
        break;
      } // STACK_GLOBAL
      case 0x71:
        memo.set(r.uint(1), top());
        break; // BINPUT
      case 0x72:
        memo.set(r.uint(4), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68:
      case 0x6a: {
        // BINGET, LONG_BINGET
        const k = r.uint(op === 0x68 ? 1 : 4);
        if (!memo.has(k)) throw new ModelFormatError(`${source}: corrupt data.pkl (memo ${k} unset)`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x58:
        stack.push(text(r.uint(4)));
        break; // BINUNICODE
      case 0x8c:
        stack.push(text(r.uint(1)));
        break; // SHORT_BINUNICODE
      case 0x8d:
        stack.push(text(r.uint(8)));
        break; // BINUNICODE8
      case 0x43:
        stack.push(r.take(r.uint(1)).slice());
        break; // SHORT_BINBYTES
      case 0x42:
        stack.push(r.take(r.uint(4)).slice());
        break; // BINBYTES
      case 0x4a:
        stack.push(signedLittleEndian(r.take(4)));
        break; // BININT
      case 0x4b:
        stack.push(r.uint(1));
        break; // BININT1
      case 0x4d:
        stack.push(r.uint(2));
        break; // BININT2
      case 0x8a:
        stack.push(signedLittleEndian(r.take(r.uint(1))));
        break; // LONG1
      case 0x8b:
        stack.push(signedLittleEndian(r.take(r.uint(4))));
        break; // LONG4
      case 0x47:
        stack.push(new DataView(r.take(8).slice().buffer).getFloat64(0, false));
        break; // BINFLOAT
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x51:
        stack.push(persistentLoad(pop(), source));
        break; // BINPERSID
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PickleGlobal)) throw new ModelFormatError(`${source}: corrupt data.pkl (REDUCE of a non-callable)`);
        stack.push(callGlobal(fn, items(args), source));
        break;
      }
      case 0x73: {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      } // SETITEM
      case 0x75: {
        const kv = popMark();
        setItems(top(), kv);
        break;
      } // SETITEMS
      case 0x61: {
        const v = pop();
        const l = top();
        if (Array.isArray(l)) l.push(v);
        break;
      } // APPEND
      case 0x65: {
        const vs = popMark();
        const l = top();
        if (Array.isArray(l)) l.push(...vs);
        break;
      } // APPENDS
      case 0x62:
        pop();
        break; // BUILD: state (an OrderedDict's _metadata) is not needed
      default:
        throw new ModelFormatError(
          `${source}: data.pkl uses pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${r.pos - 1}, which a state dict does not need; only state dicts are read`,
        );
    }
  }
}
