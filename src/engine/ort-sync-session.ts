/**
 * A synchronous onnxruntime session, straight on onnxruntime-node's native binding.
 *
 * Why: the public `InferenceSession.run` of onnxruntime-node 1.30 runs the (synchronous,
 * same-thread) native call inside `setImmediate` (dist/backend.js), so every model run
 * waits one extra event-loop turn. In a worker that is an extra poll of its loop per
 * batch; on the front end it means waiting behind every socket uWS has ready. The native
 * run blocks either way (the guide measured it), so calling it directly costs nothing and
 * removes the turn. The package version is pinned exactly (package.json), and the binding
 * is checked when a session is built: if its shape ever differs, startup fails loudly
 * rather than scoring wrongly.
 */
import { Tensor } from 'onnxruntime-node';
import { teardownGate } from './teardown-gate';

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, Tensor>, fetches: Record<string, null>, options: object): Record<string, unknown>;
  inputMetadata: { name: string }[];
  outputMetadata: { name: string }[];
  dispose?(): void;
}

interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt(): void;
}

export interface SyncSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model on this thread and returns every output as a Tensor. */
  run(feeds: Record<string, Tensor>): Record<string, Tensor>;
  release(): void;
}

function loadBinding(): NativeBinding {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const b = require('onnxruntime-node/dist/binding') as Partial<NativeBinding>;
  if (typeof b.initOrt !== 'function' || typeof b.binding?.InferenceSession !== 'function') {
    throw new Error('onnxruntime-node/dist/binding has an unexpected shape: this code is written for onnxruntime-node 1.30.0');
  }
  return b as NativeBinding;
}

export function createSyncSession(model: Uint8Array, options: object): SyncSession {
  const { binding, initOrt } = loadBinding();
  initOrt();
  const native = new binding.InferenceSession();
  native.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, options);
  const inputNames = native.inputMetadata.map((m) => m.name);
  const outputNames = native.outputMetadata.map((m) => m.name);
  const fetches: Record<string, null> = Object.fromEntries(outputNames.map((n) => [n, null]));
  const noOptions = {};
  // Bound by the thread before it builds sessions; null in tools that run a model alone.
  const gate = teardownGate();
  return {
    inputNames,
    outputNames,
    run(feeds) {
      let raw: Record<string, unknown>;
      gate?.enter();
      try {
        raw = native.run(feeds, fetches, noOptions);
      } finally {
        gate?.leave();
      }
      const out: Record<string, Tensor> = {};
      for (const name of outputNames) {
        const r = raw[name] as Tensor | { type: Tensor.Type; data: Tensor.DataType; dims: number[] };
        out[name] = r instanceof Tensor ? r : new Tensor(r.type, r.data as Float32Array, r.dims);
      }
      return out;
    },
    release() {
      native.dispose?.();
    },
  };
}
