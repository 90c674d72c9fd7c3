import { isAbsolute, resolve } from 'node:path';
import { MasaError } from '@masa-rl/core';
import { exportModel, loadLoraAdapter, loadModel } from '@masa-rl/model';
import type { ExportFormat, FloatDtype } from '@masa-rl/model';
import { Command, Option } from 'commander';

/** Where the command writes and what it reads from its surroundings (test seams). */
export interface ExportCommandOptions {
  /**
   * Progress and the list of written files.
   * @default process.stdout
   */
  stdout?: { write(text: string): unknown };
  /**
   * Directory relative paths are resolved against.
   * @default process.cwd()
   */
  cwd?: string;
}

interface ExportFlags {
  model: string;
  to: ExportFormat;
  out: string;
  adapter?: string;
  dtype?: 'f32' | 'bf16' | 'f16';
}

const DTYPES: Readonly<Record<'f32' | 'bf16' | 'f16', FloatDtype>> = { f32: 'F32', bf16: 'BF16', f16: 'F16' };

/** `masa export`: write a model as a Hugging Face folder or a transformers.js ONNX folder. */
export function createExportCommand(options: ExportCommandOptions = {}): Command {
  const out = (text: string): void => void (options.stdout ?? process.stdout).write(text);
  const cwd = options.cwd ?? process.cwd();
  const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(cwd, path));
  return new Command('export')
    .description('Export a model folder as a Hugging Face folder (safetensors) or a transformers.js folder (onnx/model.onnx)')
    .requiredOption('--model <dir>', 'a Hugging Face model folder (config.json, *.safetensors)')
    .addOption(new Option('--to <format>', 'target format').choices(['hf', 'transformers.js']).makeOptionMandatory())
    .requiredOption('--out <dir>', 'destination folder (created; existing files of the same names are replaced)')
    .option('--adapter <dir>', 'a PEFT LoRA adapter folder to merge into the weights first')
    .addOption(new Option('--dtype <dtype>', 'weights dtype for --to hf (default: the model\'s torch_dtype)').choices(['f32', 'bf16', 'f16']))
    .action(async (flags: ExportFlags) => {
      const modelDir = absolute(flags.model);
      const outDir = absolute(flags.out);
      if (outDir === modelDir) throw new MasaError('ARGUMENT_INVALID', '--out must differ from --model (export never overwrites its source)');
      if (flags.dtype !== undefined && flags.to !== 'hf') {
        throw new MasaError('ARGUMENT_INVALID', '--dtype applies to --to hf only (transformers.js exports are float32)');
      }
      const model = await loadModel({ modelDir });
      for (const warning of model.warnings) out(`warning: ${warning}\n`);
      const adapter = flags.adapter === undefined ? undefined : await loadLoraAdapter({ adapterDir: absolute(flags.adapter), config: model.config });
      const result = await exportModel({
        config: model.config,
        weights: model.weights,
        outDir,
        format: flags.to,
        copyFilesFrom: modelDir,
        ...(adapter !== undefined ? { lora: { config: adapter.lora, adapters: adapter.adapters } } : {}),
        ...(flags.dtype !== undefined ? { dtype: DTYPES[flags.dtype] } : {}),
      });
      out(`exported ${model.config.architecture} (${flags.to}${adapter !== undefined ? ', LoRA merged' : ''}) to ${outDir}:\n`);
      for (const file of result.files) out(`  ${file}\n`);
    });
}
