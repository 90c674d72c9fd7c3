// The benchmark's decoder, written with @masa-rl/onnx's public API: a
// Qwen3-shaped causal LM (RMSNorm, q/k norms, rotary positions, grouped-query
// attention with a padding mask, SwiGLU MLP, untied head) and a token-level
// weighted log-likelihood loss. torch_step.py is the same model in PyTorch.
import {
  add,
  applyRotary,
  attention,
  causalMask,
  createGraph,
  gather,
  matMul,
  mul,
  neg,
  reduceSum,
  reshape,
  rmsNorm,
  rotaryTables,
  silu,
  tokenLogProbs,
  transpose,
} from '../../packages/onnx/dist/index.js';

/** Model sizes from shared/docs/ENVIRONMENT.md ("small" is the 8.9M anchor). */
export const CONFIGS = {
  tiny: { vocab: 512, hidden: 256, layers: 4, queryHeads: 4, kvHeads: 2, headDim: 64, intermediate: 384 },
  small: { vocab: 8192, hidden: 256, layers: 6, queryHeads: 4, kvHeads: 2, headDim: 64, intermediate: 768 },
};

export function parameterSpecs(config) {
  const { vocab, hidden, queryHeads, kvHeads, headDim, intermediate } = config;
  const specs = [{ name: 'embed', dims: [vocab, hidden], kind: 'embedding' }];
  for (let layer = 0; layer < config.layers; layer++) {
    const p = `layers.${layer}.`;
    specs.push(
      { name: `${p}input_norm`, dims: [hidden], kind: 'norm' },
      { name: `${p}wq`, dims: [hidden, queryHeads * headDim], kind: 'matrix' },
      { name: `${p}wk`, dims: [hidden, kvHeads * headDim], kind: 'matrix' },
      { name: `${p}wv`, dims: [hidden, kvHeads * headDim], kind: 'matrix' },
      { name: `${p}q_norm`, dims: [headDim], kind: 'norm' },
      { name: `${p}k_norm`, dims: [headDim], kind: 'norm' },
      { name: `${p}wo`, dims: [queryHeads * headDim, hidden], kind: 'matrix' },
      { name: `${p}post_norm`, dims: [hidden], kind: 'norm' },
      { name: `${p}w_gate`, dims: [hidden, intermediate], kind: 'matrix' },
      { name: `${p}w_up`, dims: [hidden, intermediate], kind: 'matrix' },
      { name: `${p}w_down`, dims: [intermediate, hidden], kind: 'matrix' },
    );
  }
  specs.push({ name: 'final_norm', dims: [hidden], kind: 'norm' }, { name: 'lm_head', dims: [hidden, vocab], kind: 'matrix' });
  return specs;
}

/** Forward graph up to the scalar loss; weights are graph inputs (fed zero-copy, updated in place by AdamW). */
export function buildDecoderLoss(config, { epsilon = 1e-6, theta = 1e6 } = {}) {
  const { queryHeads, kvHeads, headDim } = config;
  const graph = createGraph({ name: 'bench-decoder' });
  const ids = graph.input('input_ids', 'int64', ['batch', 'seq']);
  const paddingMask = graph.input('attention_mask', 'int64', ['batch', 'seq']);
  const positions = graph.input('position_ids', 'int64', ['batch', 'seq']);
  const targets = graph.input('targets', 'int64', ['batch', 'seq']);
  const weights = graph.input('token_weights', 'float32', ['batch', 'seq']);
  const parameters = parameterSpecs(config).map((spec) => graph.input(spec.name, 'float32', spec.dims));
  const p = (name) => graph.tensor(name);

  let h = gather(p('embed'), ids); // [batch, seq, hidden]
  const tables = rotaryTables(graph, positions, { headDim, theta });
  const mask = causalMask(graph, { seq: 'seq', paddingMask }); // [batch, 1, seq, seq]
  const heads = (x, count) => transpose(reshape(x, ['batch', 'seq', count, headDim]), [0, 2, 1, 3]); // [batch, count, seq, headDim]
  for (let layer = 0; layer < config.layers; layer++) {
    const prefix = `layers.${layer}.`;
    const x = rmsNorm(h, p(`${prefix}input_norm`), { epsilon });
    const q = applyRotary(rmsNorm(heads(matMul(x, p(`${prefix}wq`)), queryHeads), p(`${prefix}q_norm`), { epsilon }), tables);
    const k = applyRotary(rmsNorm(heads(matMul(x, p(`${prefix}wk`)), kvHeads), p(`${prefix}k_norm`), { epsilon }), tables);
    const v = heads(matMul(x, p(`${prefix}wv`)), kvHeads);
    const context = attention({ query: q, key: k, value: v, mask }); // [batch, queryHeads, seq, headDim]
    const merged = reshape(transpose(context, [0, 2, 1, 3]), ['batch', 'seq', queryHeads * headDim]);
    h = add(h, matMul(merged, p(`${prefix}wo`)));
    const y = rmsNorm(h, p(`${prefix}post_norm`), { epsilon });
    h = add(h, matMul(mul(silu(matMul(y, p(`${prefix}w_gate`))), matMul(y, p(`${prefix}w_up`))), p(`${prefix}w_down`)));
  }
  h = rmsNorm(h, p('final_norm'), { epsilon });
  const logits = matMul(h, p('lm_head')); // [batch, seq, vocab]
  const picked = tokenLogProbs(logits, targets); // [batch, seq]
  const loss = neg(reduceSum(mul(picked, weights), { keepdims: false }));
  return { graph, loss, parameters };
}
