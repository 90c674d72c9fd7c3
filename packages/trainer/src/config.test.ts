import { MasaError } from '@masa-rl/core';
import { describe, expect, it } from 'vitest';
import { configKeyPaths, dumpResolvedConfig, parseOverride, resolveConfig } from './config.js';

const minimal = { text: 'data:\n  train_files: data/train.jsonl\n', path: 'train.yaml' };

function configError(run: () => unknown): MasaError {
  try {
    run();
  } catch (error: unknown) {
    expect(MasaError.hasCode(error, 'CONFIG_INVALID')).toBe(true);
    return error as MasaError;
  }
  throw new Error('expected a CONFIG_INVALID error');
}

describe('resolveConfig', () => {
  it('fills the paper defaults (MASA-SPEC §11) and freezes the result', () => {
    const config = resolveConfig({ file: minimal });
    expect(config.data.train_batch_size).toBe(128);
    expect(config.data.max_prompt_length).toBe(2048);
    expect(config.data.max_response_length).toBe(8192);
    expect(config.actor_rollout_ref.rollout.n).toBe(16);
    expect(config.actor_rollout_ref.rollout.val_kwargs.top_p).toBe(0.7);
    expect(config.actor_rollout_ref.actor.optim.lr).toBe(1e-6);
    expect(config.actor_rollout_ref.actor.optim.lr_warmup_steps).toBe(20);
    expect(config.actor_rollout_ref.actor.optim.weight_decay).toBe(0.1);
    expect(config.actor_rollout_ref.actor.optim.zero_lr_first_step).toBe(false);
    expect(config.actor_rollout_ref.actor.grad_clip).toBe(1);
    expect([config.actor_rollout_ref.actor.clip_ratio_low, config.actor_rollout_ref.actor.clip_ratio_high, config.actor_rollout_ref.actor.clip_ratio_c]).toEqual([0.2, 0.28, 10]);
    expect(config.actor_rollout_ref.actor.loss_agg_mode).toBe('token-mean');
    expect(config.actor_rollout_ref.actor.ppo_mini_batch_size).toBeNull(); // = data.train_batch_size
    expect(config.actor_rollout_ref.actor.use_kl_loss).toBe(false);
    expect(config.actor_rollout_ref.actor.entropy_coeff).toBe(0);
    expect(config.trainer.test_freq).toBe(5);
    expect(config.trainer.save_freq).toBe(10);
    expect(config.masa.meta_n).toBe(8);
    expect(config.masa.calibration_steps).toBe(80);
    expect(config.masa.gating_std).toBe(0.1);
    expect(config.masa.cutoff_factor).toBe(2);
    expect(config.masa.difficulty_base).toBe(0.01);
    expect(config.algorithm.name).toBe('grpo');
    expect(config.algorithm.filter_groups.enable).toBe(false);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.actor_rollout_ref.actor.optim)).toBe(true);
    expect(Object.isFrozen(config.actor_rollout_ref.actor.optim.betas)).toBe(true);
  });

  it('applies file < --algo < --set precedence and algorithm presets', () => {
    const text = `${minimal.text}algorithm:\n  name: masa\nactor_rollout_ref:\n  rollout:\n    n: 8\n`;
    const fromFile = resolveConfig({ file: { text } });
    expect(fromFile.algorithm.name).toBe('masa');
    expect(fromFile.actor_rollout_ref.rollout.n).toBe(8);

    const withAlgo = resolveConfig({ file: { text }, algo: 'dapo' });
    expect(withAlgo.algorithm.name).toBe('dapo');
    expect(withAlgo.algorithm.filter_groups.enable).toBe(true);

    const withSet = resolveConfig({
      file: { text },
      algo: 'dapo',
      overrides: ['algorithm.name=dapo-masa', 'algorithm.filter_groups.enable=false', 'actor_rollout_ref.rollout.n=4', 'actor_rollout_ref.rollout.n=2'],
    });
    expect(withSet.algorithm.name).toBe('dapo-masa');
    // An explicit value beats the preset.
    expect(withSet.algorithm.filter_groups.enable).toBe(false);
    expect(withSet.actor_rollout_ref.rollout.n).toBe(2);
  });

  it('resolves from overrides alone', () => {
    const config = resolveConfig({ overrides: ['data.train_files=["a.jsonl","b.jsonl"]', 'trainer.max_actor_ckpt_to_keep=3'] });
    expect(config.data.train_files).toEqual(['a.jsonl', 'b.jsonl']);
    expect(config.trainer.max_actor_ckpt_to_keep).toBe(3);
  });

  it('rejects an unknown key with its path, file line and a suggestion', () => {
    const text = `${minimal.text}actor_rollout_ref:\n  actor:\n    clip_ratio_hgh: 0.3\n`;
    const error = configError(() => resolveConfig({ file: { text, path: 'train.yaml' } }));
    expect(error.message).toContain(
      'train.yaml:5: actor_rollout_ref.actor.clip_ratio_hgh: unknown key (did you mean clip_ratio_high?)',
    );
    expect(error.details['issues']).toEqual([
      {
        key: 'actor_rollout_ref.actor.clip_ratio_hgh',
        message: 'unknown key (did you mean clip_ratio_high?)',
        origin: 'train.yaml:5',
      },
    ]);
  });

  it('suggests the full path of a key placed in the wrong section', () => {
    const error = configError(() => resolveConfig({ file: minimal, overrides: ['trainer.grad_clip=0.5'] }));
    expect(error.message).toContain(
      '--set trainer.grad_clip=0.5: trainer.grad_clip: unknown key (did you mean actor_rollout_ref.actor.grad_clip or masa.expert_sft.grad_clip?)',
    );
  });

  it('rejects unknown top-level sections and keys from --set', () => {
    const error = configError(() => resolveConfig({ file: minimal, overrides: ['actor_rollout_ref.rollout.temprature=0.7'] }));
    expect(error.message).toContain(
      '--set actor_rollout_ref.rollout.temprature=0.7: actor_rollout_ref.rollout.temprature: unknown key (did you mean temperature?)',
    );
    const top = configError(() => resolveConfig({ file: { text: `${minimal.text}trainr:\n  seed: 1\n`, path: 'x.yaml' } }));
    expect(top.message).toContain('x.yaml:3: trainr: unknown key (did you mean trainer?)');
  });

  it('rejects wrong types with the key path and the value it got', () => {
    const text = `${minimal.text}data_extra: 1\n`;
    configError(() => resolveConfig({ file: { text } }));
    const error = configError(() =>
      resolveConfig({ file: { text: `${minimal.text}  train_batch_size: lots\n`, path: 'run.yaml' } }),
    );
    expect(error.message).toContain('run.yaml:3: data.train_batch_size: expected number, got the string "lots"');
    const enumError = configError(() => resolveConfig({ file: minimal, overrides: ['actor_rollout_ref.actor.loss_agg_mode=mean'] }));
    expect(enumError.message).toContain('actor_rollout_ref.actor.loss_agg_mode: expected one of "token-mean"');
    const rangeError = configError(() => resolveConfig({ file: minimal, overrides: ['actor_rollout_ref.actor.clip_ratio_c=1'] }));
    expect(rangeError.message).toContain('actor_rollout_ref.actor.clip_ratio_c');
    const intError = configError(() => resolveConfig({ file: minimal, overrides: ['data.train_batch_size=2.5'] }));
    expect(intError.message).toContain('data.train_batch_size');
  });

  it('reports every problem at once', () => {
    const error = configError(() =>
      resolveConfig({ file: minimal, overrides: ['data.train_batch_size=x', 'masa.meta_nn=4'] }),
    );
    expect(error.message).toContain('(2 problems)');
    expect((error.details['issues'] as unknown[]).length).toBe(2);
  });

  it('fails when the dataset is missing, naming the key and the fix', () => {
    const error = configError(() => resolveConfig({}));
    expect(error.message).toContain('data.train_files: required');
    expect(error.message).toContain('--set data.train_files=PATH');
    const empty = configError(() => resolveConfig({ file: { text: 'data:\n  train_files: []\n' } }));
    expect(empty.message).toContain('data.train_files');
  });

  it('checks keys against each other', () => {
    const tooSmall = configError(() => resolveConfig({ file: minimal, overrides: ['actor_rollout_ref.actor.ppo_max_token_len_per_gpu=4096'] }));
    expect(tooSmall.message).toContain('actor_rollout_ref.actor.ppo_max_token_len_per_gpu: 4096 tokens cannot hold one sequence');
    expect(tooSmall.message).toContain('10240');
    const mini = configError(() => resolveConfig({ file: minimal, overrides: ['data.train_batch_size=8', 'actor_rollout_ref.actor.ppo_mini_batch_size=16'] }));
    expect(mini.message).toContain('ppo_mini_batch_size: 16 is larger than data.train_batch_size (8)');
    const micro = configError(() => resolveConfig({ file: minimal, overrides: ['actor_rollout_ref.actor.use_dynamic_bsz=false'] }));
    expect(micro.message).toContain('ppo_micro_batch_size_per_gpu: required when');
  });

  it('rejects bad YAML with a line and column', () => {
    const error = configError(() => resolveConfig({ file: { text: 'data:\n  train_files: [a\n', path: 'bad.yaml' } }));
    expect(error.message).toMatch(/^bad\.yaml:\d+:\d+: not valid YAML/);
    const notMap = configError(() => resolveConfig({ file: { text: '- a\n- b\n', path: 'list.yaml' } }));
    expect(notMap.message).toContain('list.yaml: the config must be a YAML mapping');
    configError(() => resolveConfig({ file: { text: 'data:\n  train_files: a\ndata:\n  seed: 2\n' } }));
  });

  it('rejects an unknown --algo', () => {
    configError(() => resolveConfig({ file: minimal, algo: 'ppo' as never }));
  });

  it('round-trips through dumpResolvedConfig', () => {
    const config = resolveConfig({ file: minimal, algo: 'masa-efficient', overrides: ['data.val_files=val.jsonl'] });
    const text = dumpResolvedConfig(config);
    expect(text).toContain('clip_ratio_high: 0.28');
    expect(resolveConfig({ file: { text } })).toEqual(config);
  });

  it('lists every leaf key path', () => {
    const keys = configKeyPaths();
    expect(keys).toContain('actor_rollout_ref.actor.optim.lr');
    expect(keys).toContain('algorithm.filter_groups.max_num_gen_batches');
    expect(keys).toContain('masa.expert_sft.batch_size');
    expect(keys).not.toContain('actor_rollout_ref.actor');
  });
});

describe('parseOverride', () => {
  it('parses numbers, booleans, null, JSON and strings', () => {
    expect(parseOverride('a.b=3').value).toBe(3);
    expect(parseOverride('a.b=-1e-6').value).toBe(-1e-6);
    expect(parseOverride('a.b=.5').value).toBe(0.5);
    expect(parseOverride('a.b=true').value).toBe(true);
    expect(parseOverride('a.b=false').value).toBe(false);
    expect(parseOverride('a.b=null').value).toBeNull();
    expect(parseOverride('a.b=~').value).toBeNull();
    expect(parseOverride('a.b=[1, 2]').value).toEqual([1, 2]);
    expect(parseOverride('a.b={"x": 1}').value).toEqual({ x: 1 });
    expect(parseOverride('a.b="007"').value).toBe('007');
    expect(parseOverride('a.b=data/x=y.jsonl').value).toBe('data/x=y.jsonl');
    expect(parseOverride('a.b=').value).toBe('');
    expect(parseOverride(' data.seed = 4 ')).toEqual({ path: ['data', 'seed'], value: 4, source: '--set  data.seed = 4 ' });
  });

  it('rejects malformed overrides with an example of the right form', () => {
    expect(() => parseOverride('novalue')).toThrow(/expected KEY=VALUE/);
    expect(() => parseOverride('a..b=1')).toThrow(/dotted key path/);
    expect(() => parseOverride('a.b=[1,')).toThrow(/not valid JSON/);
  });
});
