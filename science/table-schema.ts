/**
 * One declaration per Arrow table: its columns in order, their Arrow types and the row type,
 * giving both directions, so a table is never written in one place and read back by hand in
 * another.
 *
 *   export const labelsTable = defineTable({ neuron: int32, layer: int32, label: int32 });
 *   export type LabelRow = RowOf<typeof labelsTable>;   // { neuron: number; layer: number; label: number }
 *   labelsTable.toTable(rows | columns, metadata?)      // → Table
 *   labelsTable.fromTable(table, 'cluster labels')      // → rows, checked
 *   labelsTable.columnsOf(table, 'cluster labels')      // → { neuron: Int32Array, ... }
 *
 * Arrow column names are the snake_case of the keys (trueAcc → true_acc), so rows keep the
 * science's camelCase and files keep the names documented beside each declaration.
 *
 * The bytes are what the content-hashed outputs depend on, so the layout is fixed: one record
 * batch holding one struct, fields non-null unless the column type says otherwise, schema
 * metadata in the declared key order, dictionary ids 0, 1, … in column order (test/tables.test.ts
 * pins the bytes of every table). Reading is lenient where files from other tools differ
 * harmlessly (any integer or float width for numbers, any chunking) and strict about the rest:
 * a missing column or one of the wrong kind is an error naming the source and the column.
 */
import {
  Bool,
  type Data,
  DataType,
  Dictionary,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int32,
  List,
  makeData,
  Precision,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Uint8,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';

/**
 * A column type. `In`: the values one column is written from; `Out`: what a column reads back
 * as; `Value`: one row's value as read; `Optional`: whether tables may lack the column.
 */
export interface ColumnType<In = unknown, Out = unknown, Value = unknown, Optional extends boolean = boolean> {
  /** How declarations and error messages name it: 'int32', 'list<float32>'. */
  readonly label: string;
  readonly nullable: boolean;
  readonly isOptional: Optional;
  /** The column's Data from its values; `dictionaryId` for dictionary columns. */
  encode(values: In, dictionaryId: number): Data;
  /** Rows in `values`. */
  count(values: In): number;
  /** The column's values from the rows' values (rows → columns). */
  gather(values: readonly Value[]): In;
  /** Whether a column of this Arrow type can be read as this column. */
  accepts(type: DataType): boolean;
  decode(vector: Vector): Out;
  at(column: Out, row: number): Value;
  /** The same type, with the column allowed to be absent (written only when given). */
  optional(): ColumnType<In, Out, Value, true>;
}

type AnyColumn = ColumnType<any, any, any, boolean>;
export type Columns = Record<string, AnyColumn>;

type InOf<C> = C extends ColumnType<infer I, any, any, any> ? I : never;
type OutOf<C> = C extends ColumnType<any, infer O, any, any> ? O : never;
type ValueOf<C> = C extends ColumnType<any, any, infer V, any> ? V : never;
type OptionalKeys<T extends Columns> = { [K in keyof T]: T[K] extends ColumnType<any, any, any, true> ? K : never }[keyof T];
type RequiredKeys<T extends Columns> = Exclude<keyof T, OptionalKeys<T>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** A row as read (and as written: rows may carry more properties than the columns). */
export type Row<T extends Columns> = Simplify<{ [K in RequiredKeys<T>]: ValueOf<T[K]> } & { [K in OptionalKeys<T>]?: ValueOf<T[K]> }>;
/** The columns a table is written from. */
export type ColumnsIn<T extends Columns> = Simplify<{ [K in RequiredKeys<T>]: InOf<T[K]> } & { [K in OptionalKeys<T>]?: InOf<T[K]> }>;
/** The columns a table reads back as (typed arrays for numbers). */
export type ColumnsOut<T extends Columns> = Simplify<{ [K in RequiredKeys<T>]: OutOf<T[K]> } & { [K in OptionalKeys<T>]?: OutOf<T[K]> }>;

/** The row type of a declaration: `RowOf<typeof labelsTable>`. */
export type RowOf<S> = S extends TableSchema<infer T, any> ? Row<T> : never;

export interface TableSchema<T extends Columns, M extends string = never> {
  readonly columns: T;
  /** Arrow name of each key. */
  readonly arrowNames: { readonly [K in keyof T]: string };
  readonly metadataKeys: readonly M[];
  /** The table of `data` (rows, or columns of equal length) with string metadata (declared keys, written in declared order). */
  toTable(data: readonly Row<T>[] | ColumnsIn<T>, metadata?: Partial<Record<M, string>>): Table;
  /** The rows of `table`, after checking its columns; `source` names the table in errors. */
  fromTable(table: Table, source: string): Row<T>[];
  /** The columns of `table`, after checking them. */
  columnsOf(table: Table, source: string): ColumnsOut<T>;
  /** The declared metadata present in `table`; a `required` key that is absent is an error. */
  metadataOf<R extends M = never>(table: Table, source: string, required?: readonly R[]): Partial<Record<M, string>> & Record<R, string>;
}

export interface TableOptions<M extends string> {
  /** Schema metadata keys, in the order they are written. */
  readonly metadata?: readonly M[];
  /** Appended to errors about a table read from a file, e.g. 'see README "Weights file"'. */
  readonly help?: string;
}

export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function defineTable<T extends Columns, M extends string = never>(columns: T, options: TableOptions<M> = {}): TableSchema<T, M> {
  const keys = Object.keys(columns) as (keyof T & string)[];
  const arrowNames = Object.fromEntries(keys.map((k) => [k, snakeCase(k)])) as { [K in keyof T]: string };
  const metadataKeys = options.metadata ?? [];
  const help = options.help ? `; ${options.help}` : '';
  const expected = keys.map((k) => `${arrowNames[k]}${columns[k].isOptional ? '?' : ''}`).join(', ');

  function toTable(data: readonly Row<T>[] | ColumnsIn<T>, metadata: Partial<Record<M, string>> = {}): Table {
    for (const k of Object.keys(metadata))
      if (!(metadataKeys as readonly string[]).includes(k)) throw new Error(`toTable: metadata '${k}' is not declared (${metadataKeys.join(', ')})`);
    const given = Array.isArray(data) ? columnsFromRows(columns, data) : (data as Record<string, unknown>);
    const present = keys.filter((k) => {
      if (given[k] !== undefined) return true;
      if (!columns[k].isOptional) throw new Error(`toTable: column '${arrowNames[k]}' is missing`);
      return false;
    });
    const length = present.length ? columns[present[0]].count(given[present[0]]) : 0;
    let dictionaries = 0;
    const children = present.map((k) => {
      const n = columns[k].count(given[k]);
      if (n !== length) throw new Error(`toTable: column '${arrowNames[k]}' has ${n} rows, '${arrowNames[present[0]]}' has ${length}`);
      const data = columns[k].encode(given[k], dictionaries);
      if (DataType.isDictionary(data.type)) dictionaries++;
      return data;
    });
    const fields = present.map((k, i) => new Field(arrowNames[k], children[i].type, columns[k].nullable));
    const entries = metadataKeys.filter((k) => metadata[k] !== undefined).map((k) => [k, metadata[k]!] as [string, string]);
    const schema = new Schema(fields, new Map(entries));
    const struct = makeData({ type: new Struct(fields), length, nullCount: 0, children });
    return new Table(schema, [new RecordBatch(schema, struct)]);
  }

  function columnsOf(table: Table, source: string): ColumnsOut<T> {
    const found = table.schema.fields.map((f) => f.name).join(', ');
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const name = arrowNames[k];
      const vector = table.getChild(name);
      if (!vector) {
        if (columns[k].isOptional) continue;
        throw new Error(`${source}: missing column '${name}' (expected ${expected}; found ${found || 'none'}${help})`);
      }
      if (!columns[k].accepts(vector.type)) throw new Error(`${source}: column '${name}' is ${vector.type}, expected ${columns[k].label}${help}`);
      try {
        out[k] = columns[k].decode(vector);
      } catch (err) {
        throw new Error(`${source}: column '${name}': ${(err as Error).message}${help}`);
      }
    }
    return out as ColumnsOut<T>;
  }

  function fromTable(table: Table, source: string): Row<T>[] {
    const cols = columnsOf(table, source) as Record<string, unknown>;
    const present = keys.filter((k) => cols[k] !== undefined);
    return Array.from({ length: table.numRows }, (_, i) => Object.fromEntries(present.map((k) => [k, columns[k].at(cols[k], i)])) as Row<T>);
  }

  function metadataOf<R extends M = never>(table: Table, source: string, required: readonly R[] = []) {
    const md = table.schema.metadata;
    for (const k of required) if (!md.has(k)) throw new Error(`${source}: schema metadata '${k}' is missing${help}`);
    return Object.fromEntries(metadataKeys.filter((k) => md.has(k)).map((k) => [k, md.get(k)!])) as Partial<Record<M, string>> & Record<R, string>;
  }

  return { columns, arrowNames, metadataKeys, toTable, fromTable, columnsOf, metadataOf };
}

/** Rows → columns: each column type gathers its rows' values; an optional column no row has is left out. */
function columnsFromRows(columns: Columns, rows: readonly object[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, type] of Object.entries(columns)) {
    const values = rows.map((r) => (r as Record<string, unknown>)[k]);
    const defined = values.filter((v) => v !== undefined).length;
    if (defined === 0 && type.isOptional) continue;
    if (defined !== values.length) throw new Error(`toTable: ${values.length - defined} of ${values.length} rows lack '${k}'`);
    out[k] = type.gather(values);
  }
  return out;
}

// ---------------------------------------------------------------- column types

type Spec<In, Out, Value> = Omit<ColumnType<In, Out, Value, false>, 'isOptional' | 'optional' | 'nullable' | 'gather' | 'at'> &
  Partial<Pick<ColumnType<In, Out, Value, false>, 'nullable' | 'gather' | 'at'>>;

function column<In, Out, Value>(spec: Spec<In, Out, Value>): ColumnType<In, Out, Value, false> {
  const base = {
    nullable: false,
    // Columns of values held in arrays: rows → column is the array of the rows' values, row i is its element i.
    gather: (values: readonly Value[]) => values as unknown as In,
    at: (c: Out, i: number) => (c as unknown as ArrayLike<Value>)[i],
    ...spec,
  };
  const optional = { ...base, isOptional: true as const, optional: () => optional };
  return { ...base, isOptional: false, optional: () => optional };
}

const isNumber = (t: DataType) => DataType.isInt(t) || DataType.isFloat(t);

type NumberArray = Int32Array | Uint8Array | Float32Array | Float64Array;
type NumberArrayCtor<A extends NumberArray> = {
  new (n: number): A;
  from(xs: ArrayLike<number>): A;
  from(xs: ArrayLike<unknown>, f: (x: unknown) => number): A;
};

function numbers<A extends NumberArray>(label: string, type: () => DataType, Ctor: NumberArrayCtor<A>) {
  return column<ArrayLike<number>, A, number>({
    label,
    encode: (values) => makeData({ type: type(), length: values.length, data: Ctor.from(values) } as never),
    count: (values) => values.length,
    accepts: isNumber,
    decode: (v) => {
      const a = v.toArray() as ArrayLike<unknown>;
      return a instanceof Ctor ? Ctor.from(a as A) : Ctor.from(a, Number);
    },
  });
}

export const int32 = numbers<Int32Array>('int32', () => new Int32(), Int32Array);
export const uint8 = numbers<Uint8Array>('uint8', () => new Uint8(), Uint8Array);
export const float64 = numbers<Float64Array>('float64', () => new Float64(), Float64Array);

export const bool = column<readonly boolean[], boolean[], boolean>({
  label: 'bool',
  encode: (values) => vectorFromArray(values, new Bool()).data[0],
  count: (values) => values.length,
  accepts: DataType.isBool,
  decode: (v) => Array.from({ length: v.length }, (_, i) => v.get(i) === true),
});

const stringsOf = (v: Vector) => Array.from({ length: v.length }, (_, i) => String(v.get(i)));

function strings<S extends string>(label: string, type: (dictionaryId: number) => DataType, nullable: boolean, values?: readonly S[]) {
  return column<readonly S[], S[], S>({
    label: values ? `${label} (${values.join(' | ')})` : label,
    nullable,
    encode: (xs, id) => vectorFromArray(xs, type(id)).data[0],
    count: (xs) => xs.length,
    accepts: (t) => DataType.isUtf8(t) || DataType.isLargeUtf8(t) || (DataType.isDictionary(t) && DataType.isUtf8(t.dictionary)),
    decode: (v) => {
      const xs = stringsOf(v);
      const bad = values ? xs.findIndex((x) => !(values as readonly string[]).includes(x)) : -1;
      if (bad >= 0) throw new Error(`row ${bad} is '${xs[bad]}', expected one of ${values!.join(', ')}`);
      return xs as S[];
    },
  });
}

const plain = () => new Utf8();
/**
 * dictionary<int32, utf8>, nullable: how apache-arrow's tableFromArrays writes a string column
 * (kept where a table was first written that way, so its bytes stay the same).
 */
const dictionary = (id: number) => new Dictionary(new Utf8(), new Int32(), id);

export const utf8 = strings<string>('utf8', plain, false);
/** utf8 typed as the union of `values`; a value read outside it is an error. */
export const utf8Of = <S extends string>(values: readonly S[]) => strings('utf8', plain, false, values);
export const utf8Dictionary = strings<string>('dictionary<int32, utf8>', dictionary, true);
export const utf8DictionaryOf = <S extends string>(values: readonly S[]) => strings('dictionary<int32, utf8>', dictionary, true, values);

/** list<item: T> of numbers (items non-null), one typed array per row. */
function listOf<A extends NumberArray>(label: string, type: () => DataType, Ctor: NumberArrayCtor<A>) {
  return column<readonly ArrayLike<number>[], A[], A>({
    label: `list<${label}>`,
    encode: (rows) => {
      const offsets = new Int32Array(rows.length + 1);
      rows.forEach((r, i) => (offsets[i + 1] = offsets[i] + r.length));
      const values = new Ctor(offsets[rows.length]);
      rows.forEach((r, i) => values.set(r, offsets[i]));
      const child = makeData({ type: type(), length: values.length, data: values } as never);
      return makeData({ type: new List(new Field('item', type(), false)), length: rows.length, nullCount: 0, valueOffsets: offsets, child });
    },
    count: (rows) => rows.length,
    accepts: (t) => (DataType.isList(t) || DataType.isLargeList(t) || DataType.isFixedSizeList(t)) && isNumber(t.children[0].type),
    decode: (v) =>
      Array.from({ length: v.length }, (_, i) => {
        const a = (v.get(i) as Vector).toArray() as ArrayLike<unknown>;
        return a instanceof Ctor ? Ctor.from(a as A) : Ctor.from(a, Number);
      }),
  });
}

export const listInt32 = listOf<Int32Array>('int32', () => new Int32(), Int32Array);
export const listFloat32 = listOf<Float32Array>('float32', () => new Float32(), Float32Array);
export const listFloat64 = listOf<Float64Array>('float64', () => new Float64(), Float64Array);

/**
 * fixed_size_list<size> of uint8 or float32 (the item type follows the typed array written), a
 * column held flat: `size` values per row, row-major.
 */
export function fixedSizeList(size: number, item: string) {
  type Flat = Uint8Array | Float32Array;
  return column<Flat, Flat, Flat>({
    label: `fixed_size_list<${size}>[uint8 | float32]`,
    encode: (flat) => {
      const type = flat instanceof Uint8Array ? new Uint8() : new Float32();
      const child = makeData({ type, length: flat.length, data: flat } as never);
      return makeData({ type: new FixedSizeList(size, new Field(item, type, false)) as FixedSizeList, length: flat.length / size, nullCount: 0, child });
    },
    count: (flat) => flat.length / size,
    gather: (rows) => {
      const out = rows[0] instanceof Uint8Array ? new Uint8Array(rows.length * size) : new Float32Array(rows.length * size);
      rows.forEach((r, i) => out.set(r, i * size));
      return out;
    },
    accepts: (t) => {
      const item = DataType.isFixedSizeList(t) && t.listSize === size ? t.children[0].type : null;
      return (DataType.isInt(item) && item.bitWidth === 8 && !item.isSigned) || (DataType.isFloat(item) && item.precision === Precision.SINGLE);
    },
    decode: (v) => {
      // The chunks' child buffers, concatenated: no per-row access.
      const chunks = v.data.map((d) => (d.children[0].values as Flat).subarray(d.offset * size, (d.offset + d.length) * size));
      const out = chunks[0] instanceof Float32Array ? new Float32Array(v.length * size) : new Uint8Array(v.length * size);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
    at: (flat, i) => flat.subarray(i * size, (i + 1) * size),
  });
}
