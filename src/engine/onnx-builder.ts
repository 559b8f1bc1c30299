/**
 * Writes ONNX graphs with `onnx-proto`: named inputs/outputs with symbolic dims, float initializers
 * (inline or in an external data file), and nodes. Production code builds graphs with it (the Keras → ONNX
 * SR converter, the int8 quantizer), and so do the tiny test models.
 */
import pkg from 'onnx-proto';

const { onnx } = pkg;

export type ElemType = 'float32' | 'float16' | 'int32' | 'int64';
export type Dim = number | string;

const DATA_TYPE: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
};

export type AttrValue = number | number[] | string | { ints: number[] } | { floats: number[] };

function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): pkg.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): pkg.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  }
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('ints' in v) return { name, type: T.INTS, ints: v.ints };
  return { name, type: T.FLOATS, floats: v.floats };
}

export class GraphBuilder {
  private readonly nodes: pkg.onnx.INodeProto[] = [];
  private readonly inits: pkg.onnx.ITensorProto[] = [];
  private readonly inputs: pkg.onnx.IValueInfoProto[] = [];
  private readonly outputs: pkg.onnx.IValueInfoProto[] = [];
  private readonly external: Buffer[] = [];
  private externalBytes = 0;
  private counter = 0;

  /** `externalDataFile`: when set, float initializers go to that file (as large real exports do). */
  constructor(
    private readonly name: string,
    private readonly externalDataFile?: string,
  ) {}

  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims: readonly Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A float32 initializer. */
  weight(data: Float32Array, dims: readonly number[]): string {
    const name = `w${this.counter++}`;
    const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.externalDataFile && data.length >= 64) {
      const offset = this.externalBytes;
      this.external.push(Buffer.from(raw));
      this.externalBytes += raw.length;
      this.inits.push({
        name,
        dims: [...dims],
        dataType: DATA_TYPE.float32,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: this.externalDataFile },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(raw.length) },
        ],
      });
    } else {
      this.inits.push({ name, dims: [...dims], dataType: DATA_TYPE.float32, rawData: Buffer.from(raw) });
    }
    return name;
  }

  int64s(values: readonly number[]): string {
    const name = `c${this.counter++}`;
    const raw = new BigInt64Array(values.map((v) => BigInt(v)));
    this.inits.push({ name, dims: [values.length], dataType: DATA_TYPE.int64, rawData: new Uint8Array(raw.buffer) });
    return name;
  }

  scalar(value: number): string {
    const name = `s${this.counter++}`;
    this.inits.push({ name, dims: [], dataType: DATA_TYPE.float32, rawData: new Uint8Array(new Float32Array([value]).buffer) });
    return name;
  }

  floats(values: readonly number[]): string {
    return this.weight(new Float32Array(values), [values.length]);
  }

  /** Adds a node; returns its (single) output name, or `out` when given. */
  node(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const o = out ?? `t${this.counter++}`;
    this.nodes.push({
      opType: op,
      name: `${op}_${this.counter++}`,
      input: [...inputs],
      output: [o],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return o;
  }

  /** The encoded model, and the external data bytes when an external file was asked for. */
  encode(opset = 17): { model: Uint8Array; externalData: Buffer | null } {
    const { model, externalParts } = this.encodeParts(opset);
    return { model, externalData: externalParts ? Buffer.concat(externalParts) : null };
  }

  /** The same with the external data as its initializers' buffers, in file order: a multi-GB graph is written without one more copy. */
  encodeParts(opset = 17): { model: Uint8Array; externalParts: Buffer[] | null } {
    const model = onnx.ModelProto.encode({
      irVersion: 8,
      producerName: 'mengtu',
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
    }).finish();
    return { model, externalParts: this.externalDataFile ? this.external : null };
  }
}
