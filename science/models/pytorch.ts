/**
 * PyTorch `torch.save(model.state_dict())` files: a zip holding `<name>/data.pkl` (the pickled
 * OrderedDict, read by the restricted unpickler of pickle.ts) and one raw little-endian storage per
 * tensor at `<name>/data/<key>` (PyTorch torch/serialization.py, `_save` / `_load`).
 * A checkpoint dict whose `state_dict` / `model_state_dict` / `model` entry is the state dict is
 * read through that entry.
 */
import { unpickle, PickleTuple, type PickleValue, type TensorRef } from './pickle.ts';
import { DTYPE_BYTES, ModelFormatError, decodeLittleEndian, numel, describeShape, type NamedTensor } from './tensor.ts';
import { readZip } from './zip.ts';

const CHECKPOINT_KEYS = ['state_dict', 'model_state_dict', 'model'];

function isTensor(v: PickleValue): v is TensorRef {
  return !!v && typeof v === 'object' && (v as TensorRef).kind === 'tensor';
}

function stateDictOf(root: PickleValue, source: string): Map<PickleValue, PickleValue> {
  if (!(root instanceof Map))
    throw new ModelFormatError(`${source}: data.pkl holds a ${root instanceof PickleTuple ? 'tuple' : typeof root}, not a state dict`);
  for (const key of CHECKPOINT_KEYS) {
    const inner = root.get(key);
    if (inner instanceof Map) return inner;
  }
  return root;
}

function materialize(name: string, t: TensorRef, storages: (key: string) => Uint8Array, source: string): NamedTensor {
  const what = `${source}: tensor '${name}'`;
  const bytes = storages(t.storage.key);
  const count = numel(t.shape);
  if (t.stride.length !== t.shape.length)
    throw new ModelFormatError(`${what}: stride ${describeShape(t.stride)} does not match shape ${describeShape(t.shape)}`);
  // The furthest element the view reaches must lie inside the storage (checked before allocating).
  const last = t.offset + t.shape.reduce((a, d, k) => a + (d - 1) * t.stride[k], 0);
  if (count > 0 && last >= bytes.length / DTYPE_BYTES[t.storage.dtype])
    throw new ModelFormatError(
      `${what}: shape ${describeShape(t.shape)} reaches past its storage of ${Math.floor(bytes.length / DTYPE_BYTES[t.storage.dtype])} elements (file truncated or corrupt)`,
    );
  const raw = decodeLittleEndian(bytes, 0, Math.floor(bytes.length / DTYPE_BYTES[t.storage.dtype]), t.storage.dtype, what);
  const data = new Float64Array(count);
  const idx = new Array(t.shape.length).fill(0);
  for (let n = 0; n < count; n++) {
    let p = t.offset;
    for (let d = 0; d < idx.length; d++) p += idx[d] * t.stride[d];
    if (p >= raw.length)
      throw new ModelFormatError(`${what}: shape ${describeShape(t.shape)} reaches past its storage of ${raw.length} elements (file truncated or corrupt)`);
    data[n] = raw[p];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
  return { name, shape: t.shape, data, dtype: t.storage.dtype };
}

/** The tensors of a state dict in its (insertion) order. */
export function readPytorch(bytes: Uint8Array, source: string): NamedTensor[] {
  const entries = readZip(bytes, source);
  const pkl = [...entries.keys()].find((k) => k.endsWith('data.pkl'));
  if (!pkl) throw new ModelFormatError(`${source}: zip archive without data.pkl; not a torch.save file`);
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') throw new ModelFormatError(`${source}: big-endian storages are not supported`);
  const storages = (key: string) => {
    const b = entries.get(`${prefix}data/${key}`);
    if (!b) throw new ModelFormatError(`${source}: storage data/${key} is missing from the archive (truncated or corrupt)`);
    return b;
  };
  const dict = stateDictOf(unpickle(entries.get(pkl)!, `${source}: data.pkl`), source);
  const out: NamedTensor[] = [];
  for (const [k, v] of dict) {
    if (isTensor(v)) out.push(materialize(String(k), v, storages, source));
    else if (v instanceof Map) throw new ModelFormatError(`${source}: entry '${String(k)}' is a nested dict, not a tensor; save model.state_dict()`);
    // Plain numbers and strings (e.g. an epoch counter) carry no weights.
  }
  return out;
}
