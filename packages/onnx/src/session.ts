/**
 * The ONNX Runtime adapter: the only file in masa-rl that imports
 * `onnxruntime-node` (lazily, inside {@link createSession}). It maps device
 * names to execution providers, feeds typed arrays without copying, and
 * returns plain {@link TensorValue}s.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MasaError } from '@masa-rl/core';
import type * as Ort from 'onnxruntime-node';
import { dataMatchesDType, isDType, type DType, type TensorData } from './dtype.js';
import type { Graph } from './graph.js';
import { serializeGraph } from './serialize.js';
import { elementCount, type TensorValue } from './tensor-value.js';

type OrtModule = typeof Ort;

/** Where a session runs. */
export type Device = 'cpu' | 'cuda';

/** Every device name {@link createSession} accepts. */
export const DEVICES: readonly Device[] = ['cpu', 'cuda'];

/** How much graph rewriting ONNX Runtime does when it loads a model. */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** Options of {@link createSession}. */
export interface CreateSessionOptions {
  /** A graph, ONNX model bytes (from `serializeGraph`), or the path of an `.onnx` file. */
  model: Graph | Uint8Array | string;
  /**
   * Execution device. `'cuda'` needs the CUDA provider libraries next to onnxruntime-node's binary.
   * @default 'cpu'
   */
  device?: Device;
  /**
   * With `device: 'cuda'` and no usable CUDA provider, return a CPU session and a warning instead of throwing.
   * @default false
   */
  allowCpuFallback?: boolean;
  /** Called with each warning (also kept in `session.warnings`). Libraries never print. */
  onWarning?: (message: string) => void;
  /**
   * Threads inside one op (ORT's intra-op pool; the calling thread is one of them). Results with another count
   * can differ in float rounding. On the project's 2-vCPU machines a second thread paid off only when the second
   * core was idle.
   * @default 1
   */
  intraOpNumThreads?: number;
  /**
   * @default 'all'
   */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /**
   * CUDA device ordinal.
   * @default 0
   */
  deviceId?: number;
  /**
   * ONNX Runtime's own log threshold: 0 verbose … 4 fatal.
   * @default 3 (errors only)
   */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Test seams. */
  _internal?: {
    /** Replaces the dynamic import of onnxruntime-node (returns the module; typed loosely so no ORT type leaks). */
    loadRuntime?: () => Promise<unknown>;
    /** Replaces the check for the CUDA provider library files. */
    cudaProviderPresent?: () => boolean;
  };
}

/** Name, dtype and (symbolic) shape of a session input or output. */
export interface SessionValueInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly (number | string)[];
}

/** Options of {@link Session.run}. */
export interface RunOptions {
  /** Outputs to compute and return. @default all outputs */
  outputs?: readonly string[];
}

/** A loaded model. Dispose with `await using` or `release()`. */
export interface Session extends AsyncDisposable {
  /** The device the session actually runs on (`'cpu'` after a fallback). */
  readonly device: Device;
  readonly inputs: readonly SessionValueInfo[];
  readonly outputs: readonly SessionValueInfo[];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Warnings raised while creating the session (e.g. a CPU fallback). */
  readonly warnings: readonly string[];
  /**
   * Runs the model. Typed arrays in `feeds` are read in place (no copy): change
   * them between runs and the next run sees the change. Outputs are fresh arrays.
   */
  run(feeds: Readonly<Record<string, TensorValue>>, options?: RunOptions): Promise<Record<string, TensorValue>>;
  /** Frees the native session. Further runs throw. */
  release(): Promise<void>;
}

const CUDA_INSTALL_HINT =
  'install the CUDA execution provider: with network access run onnxruntime-node\'s installer with ' +
  'ONNXRUNTIME_NODE_INSTALL=cuda12 (e.g. `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install`), ' +
  'or place libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so (built for onnxruntime 1.30, CUDA 12 + cuDNN 9 on the library path) ' +
  'into node_modules/onnxruntime-node/bin/napi-v6/linux/x64/; or pass device: "cpu", or allowCpuFallback: true';

/** The folder that holds onnxruntime-node's native binary for this platform. */
function runtimeBinaryFolder(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve('onnxruntime-node');
    return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

function defaultCudaProviderPresent(): boolean {
  const folder = runtimeBinaryFolder();
  if (folder === undefined) return false;
  const names =
    process.platform === 'win32'
      ? ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll']
      : ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
  return names.every((name) => existsSync(join(folder, name)));
}

async function defaultLoadRuntime(): Promise<OrtModule> {
  const module = (await import('onnxruntime-node')) as OrtModule & { default?: OrtModule };
  return module.default ?? module;
}

const ORT_TYPES: Readonly<Record<string, DType>> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
};

function toValueInfo(metadata: Ort.InferenceSession.ValueMetadata): SessionValueInfo {
  if (!metadata.isTensor) return { name: metadata.name, dtype: 'float32', shape: [] };
  const dtype = ORT_TYPES[metadata.type];
  if (dtype === undefined) {
    throw new MasaError('MODEL_LOAD_FAILED', `model value '${metadata.name}' has type ${metadata.type}, which @masa-rl/onnx cannot exchange`);
  }
  return { name: metadata.name, dtype, shape: [...metadata.shape] };
}

function describeFeed(value: TensorValue): string {
  return `${value.dtype} [${value.dims.join(', ')}]`;
}

/** Creates an ONNX Runtime session for a graph, model bytes or an `.onnx` file. */
export async function createSession(options: CreateSessionOptions): Promise<Session> {
  const {
    model,
    device = 'cpu',
    allowCpuFallback = false,
    onWarning,
    intraOpNumThreads = 1,
    graphOptimizationLevel = 'all',
    deviceId = 0,
    logSeverityLevel = 3,
    _internal = {},
  } = options;
  if (!DEVICES.includes(device)) {
    throw new MasaError('CONFIG_INVALID', `unknown device '${String(device)}'; valid devices: ${DEVICES.join(', ')}`);
  }
  if (!Number.isInteger(intraOpNumThreads) || intraOpNumThreads < 0) {
    throw new MasaError('CONFIG_INVALID', `intraOpNumThreads must be a non-negative integer, got ${intraOpNumThreads}`);
  }
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    onWarning?.(message);
  };

  let ort: OrtModule;
  try {
    ort = (await (_internal.loadRuntime ?? defaultLoadRuntime)()) as OrtModule;
  } catch (error: unknown) {
    throw new MasaError(
      'RUNTIME_UNAVAILABLE',
      'could not load onnxruntime-node 1.30.0: reinstall it (`pnpm install`); its CPU runtime ships in the npm package',
      { cause: error },
    );
  }

  const modelSource: Uint8Array | string =
    typeof model === 'string' || model instanceof Uint8Array ? model : serializeGraph(model);
  const baseOptions: Ort.InferenceSession.SessionOptions = {
    intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel,
    logSeverityLevel,
  };

  const create = async (providers: Ort.InferenceSession.SessionOptions['executionProviders']): Promise<Ort.InferenceSession> => {
    const sessionOptions = { ...baseOptions, executionProviders: providers ?? ['cpu'] };
    return typeof modelSource === 'string'
      ? ort.InferenceSession.create(modelSource, sessionOptions)
      : ort.InferenceSession.create(modelSource, sessionOptions);
  };

  if (typeof modelSource === 'string' && !existsSync(modelSource)) {
    throw new MasaError('FILE_NOT_FOUND', `model file ${modelSource} does not exist: check the path (relative paths resolve from ${process.cwd()})`);
  }
  const loadError = (error: unknown): MasaError => {
    const text = error instanceof Error ? error.message : String(error);
    return new MasaError(
      'MODEL_LOAD_FAILED',
      `onnxruntime rejected the model${typeof modelSource === 'string' ? ` ${modelSource}` : ''}: ${text}`,
      { cause: error },
    );
  };

  let session: Ort.InferenceSession | undefined;
  let actualDevice: Device = device;
  if (device === 'cuda') {
    const present = (_internal.cudaProviderPresent ?? defaultCudaProviderPresent)();
    let failure: unknown;
    if (present) {
      try {
        session = await create([{ name: 'cuda', deviceId }]);
      } catch (error: unknown) {
        failure = error;
      }
    }
    if (session === undefined) {
      const reason = present
        ? `the CUDA execution provider failed to start (${failure instanceof Error ? failure.message : String(failure)})`
        : 'the CUDA execution provider library (libonnxruntime_providers_cuda.so) is not installed';
      if (!allowCpuFallback) {
        throw new MasaError('RUNTIME_UNAVAILABLE', `device 'cuda' requested but ${reason}: ${CUDA_INSTALL_HINT}`, {
          cause: failure,
          details: { device, providerLibraryPresent: present },
        });
      }
      warn(`device 'cuda' requested but ${reason}; running on the CPU instead (allowCpuFallback). To use the GPU, ${CUDA_INSTALL_HINT}`);
      actualDevice = 'cpu';
    }
  }
  if (session === undefined) {
    try {
      session = await create(['cpu']);
    } catch (error: unknown) {
      throw loadError(error);
    }
  }

  const native = session;
  const inputs = native.inputMetadata.map(toValueInfo);
  const outputs = native.outputMetadata.map(toValueInfo);
  const inputByName = new Map(inputs.map((info) => [info.name, info]));
  const outputNames = outputs.map((info) => info.name);
  let released = false;

  const toOrtTensor = (name: string, value: TensorValue): Ort.Tensor => {
    const info = inputByName.get(name);
    if (info === undefined) {
      throw new MasaError('ARGUMENT_INVALID', `unknown input '${name}'; the model's inputs are: ${[...inputByName.keys()].join(', ')}`);
    }
    if (!isDType(value.dtype) || value.dtype !== info.dtype) {
      throw new MasaError('ARGUMENT_INVALID', `input '${name}' must be ${info.dtype}, got ${String(value.dtype)}`);
    }
    if (!dataMatchesDType(value.dtype, value.data as TensorData)) {
      throw new MasaError('ARGUMENT_INVALID', `input '${name}': a ${value.data.constructor.name} cannot hold ${value.dtype}`);
    }
    if (value.data.length !== elementCount(value.dims)) {
      throw new MasaError('ARGUMENT_INVALID', `input '${name}': ${value.data.length} elements do not fill dims [${value.dims.join(', ')}]`);
    }
    if (value.dims.length !== info.shape.length) {
      throw new MasaError('ARGUMENT_INVALID', `input '${name}' must have rank ${info.shape.length} ([${info.shape.join(', ')}]), got ${describeFeed(value)}`);
    }
    if (value.dtype === 'bfloat16') {
      throw new MasaError('ARGUMENT_INVALID', `input '${name}': onnxruntime-node cannot feed bfloat16; feed float32 and cast in the graph`);
    }
    return new ort.Tensor(value.dtype as 'float32', value.data as Float32Array, value.dims);
  };

  const checkSymbols = (feeds: Readonly<Record<string, TensorValue>>): void => {
    const seen = new Map<string, { size: number; input: string }>();
    for (const info of inputs) {
      const value = feeds[info.name];
      if (value === undefined) continue;
      info.shape.forEach((dim, axis) => {
        const size = value.dims[axis] as number;
        if (typeof dim === 'number') {
          if (dim >= 0 && dim !== size) {
            throw new MasaError(
              'ARGUMENT_INVALID',
              `input '${info.name}' must have shape [${info.shape.join(', ')}], got ${describeFeed(value)} (axis ${axis} must be ${dim})`,
            );
          }
          return;
        }
        if (dim === '') return;
        const previous = seen.get(dim);
        if (previous === undefined) seen.set(dim, { size, input: info.name });
        else if (previous.size !== size) {
          throw new MasaError(
            'ARGUMENT_INVALID',
            `dim '${dim}' is ${previous.size} in input '${previous.input}' but ${size} in input '${info.name}' (${describeFeed(value)})`,
          );
        }
      });
    }
  };

  const fromOrtTensor = (name: string, tensor: Ort.Tensor): TensorValue => {
    const dtype = ORT_TYPES[tensor.type];
    if (dtype === undefined) throw new MasaError('ENGINE_FAILED', `output '${name}' has unsupported type ${tensor.type}`);
    return { dtype, dims: [...tensor.dims], data: tensor.data as TensorData } as TensorValue;
  };

  const result: Session = {
    device: actualDevice,
    inputs,
    outputs,
    inputNames: inputs.map((info) => info.name),
    outputNames,
    warnings,
    async run(feeds, runOptions = {}) {
      if (released) throw new MasaError('ARGUMENT_INVALID', 'this session was released; create a new one with createSession()');
      const ortFeeds: Record<string, Ort.Tensor> = {};
      for (const [name, value] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(name, value);
      const missing = inputs.filter((info) => feeds[info.name] === undefined).map((info) => info.name);
      if (missing.length > 0) {
        throw new MasaError('ARGUMENT_INVALID', `missing input(s) ${missing.join(', ')}; the model's inputs are: ${[...inputByName.keys()].join(', ')}`);
      }
      checkSymbols(feeds);
      const fetches = runOptions.outputs ?? outputNames;
      for (const name of fetches) {
        if (!outputNames.includes(name)) {
          throw new MasaError('ARGUMENT_INVALID', `unknown output '${name}'; the model's outputs are: ${outputNames.join(', ')}`);
        }
      }
      let results: Ort.InferenceSession.ReturnType;
      try {
        results = await native.run(ortFeeds, [...fetches]);
      } catch (error: unknown) {
        const text = error instanceof Error ? error.message : String(error);
        throw new MasaError('ENGINE_FAILED', `onnxruntime failed to run the model: ${text}`, { cause: error });
      }
      const values: Record<string, TensorValue> = {};
      for (const name of fetches) {
        const tensor = results[name];
        if (tensor === undefined) throw new MasaError('ENGINE_FAILED', `onnxruntime returned no output '${name}'`);
        values[name] = fromOrtTensor(name, tensor);
      }
      return values;
    },
    async release() {
      if (released) return;
      released = true;
      await native.release();
    },
    async [Symbol.asyncDispose]() {
      await result.release();
    },
  };
  return result;
}
