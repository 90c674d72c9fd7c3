import type { ModelConfig } from './config.js';

/** What a parameter tensor is, for initialisation and LoRA targeting. */
export type ParameterKind = 'embedding' | 'linear' | 'bias' | 'norm';

/** One parameter tensor under its Hugging Face name. */
export interface ParameterSpec {
  /** Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  /** PyTorch layout: linear weights are `[out, in]`. */
  shape: number[];
  kind: ParameterKind;
}

/** The projection modules of one decoder layer, with their PEFT-style short names. */
export const PROJECTION_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
/** A projection module name (`q_proj` … `down_proj`). */
export type ProjectionModule = (typeof PROJECTION_MODULES)[number];

/** Full parameter name of a layer's projection weight (`model.layers.N.self_attn.q_proj`), without `.weight`. */
export function projectionPrefix(layer: number, module: ProjectionModule): string {
  const block = module === 'gate_proj' || module === 'up_proj' || module === 'down_proj' ? 'mlp' : 'self_attn';
  return `model.layers.${layer}.${block}.${module}`;
}

/** `[out, in]` of a projection for this config. */
export function projectionShape(config: ModelConfig, module: ProjectionModule): [number, number] {
  const { hiddenSize, numHeads, numKvHeads, headDim, intermediateSize } = config;
  switch (module) {
    case 'q_proj':
      return [numHeads * headDim, hiddenSize];
    case 'k_proj':
    case 'v_proj':
      return [numKvHeads * headDim, hiddenSize];
    case 'o_proj':
      return [hiddenSize, numHeads * headDim];
    case 'gate_proj':
    case 'up_proj':
      return [intermediateSize, hiddenSize];
    case 'down_proj':
      return [hiddenSize, intermediateSize];
  }
}

/** Does this projection carry a bias under this config? */
export function projectionHasBias(config: ModelConfig, module: ProjectionModule): boolean {
  switch (module) {
    case 'q_proj':
      return config.bias.q;
    case 'k_proj':
      return config.bias.k;
    case 'v_proj':
      return config.bias.v;
    case 'o_proj':
      return config.bias.o;
    default:
      return config.bias.mlp;
  }
}

/**
 * Every parameter tensor of the model, in checkpoint order, with Hugging Face names and
 * shapes. A tied model has no `lm_head.weight` (the head reuses `model.embed_tokens.weight`).
 */
export function listParameters(config: ModelConfig): ParameterSpec[] {
  const { hiddenSize, vocabSize, headDim } = config;
  const specs: ParameterSpec[] = [{ name: 'model.embed_tokens.weight', shape: [vocabSize, hiddenSize], kind: 'embedding' }];
  for (let layer = 0; layer < config.numLayers; layer++) {
    const prefix = `model.layers.${layer}`;
    specs.push({ name: `${prefix}.input_layernorm.weight`, shape: [hiddenSize], kind: 'norm' });
    for (const module of PROJECTION_MODULES) {
      if (module === 'gate_proj') {
        specs.push({ name: `${prefix}.post_attention_layernorm.weight`, shape: [hiddenSize], kind: 'norm' });
      }
      const name = projectionPrefix(layer, module);
      const shape = projectionShape(config, module);
      specs.push({ name: `${name}.weight`, shape, kind: 'linear' });
      if (projectionHasBias(config, module)) specs.push({ name: `${name}.bias`, shape: [shape[0]], kind: 'bias' });
      if (module === 'k_proj' && config.qkNorm) {
        specs.push({ name: `${prefix}.self_attn.q_norm.weight`, shape: [headDim], kind: 'norm' });
        specs.push({ name: `${prefix}.self_attn.k_norm.weight`, shape: [headDim], kind: 'norm' });
      }
    }
  }
  specs.push({ name: 'model.norm.weight', shape: [hiddenSize], kind: 'norm' });
  if (!config.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [vocabSize, hiddenSize], kind: 'linear' });
  return specs;
}

/** Total number of parameters (tied embeddings counted once). */
export function countParameters(config: ModelConfig): number {
  return listParameters(config).reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);
}
