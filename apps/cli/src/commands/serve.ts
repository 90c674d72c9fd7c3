import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { MasaError, type RolloutEngine } from '@masa-rl/core';
import { loadTokenizer } from '@masa-rl/model';
import { createOpenAIEngine, createOrtChildEngine, createServer, type ServerTokenizer } from '@masa-rl/rollout';
import { Command, Option } from 'commander';

/** Where the command writes and what it reads from its surroundings (test seams). */
export interface ServeCommandOptions {
  /**
   * The listening line (a JSON object with `--json`).
   * @default process.stdout
   */
  stdout?: { write(text: string): unknown };
  /**
   * Progress and shutdown messages.
   * @default process.stderr
   */
  stderr?: { write(text: string): unknown };
  /**
   * Directory relative paths are resolved against.
   * @default process.cwd()
   */
  cwd?: string;
  /**
   * Environment (`MASA_API_KEY`, `MASA_UPSTREAM_API_KEY`).
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Test seams: stop the server with this signal instead of SIGINT/SIGTERM; engine factory. */
  _internal?: { signal?: AbortSignal; createEngine?: (flags: ServeFlags, modelPath: string | undefined) => RolloutEngine };
}

export interface ServeFlags {
  model?: string;
  upstream?: string;
  upstreamModel?: string;
  servedModelName?: string;
  host: string;
  port: number;
  maxBodyBytes: number;
  maxBatchSize: number;
  threads: number;
  defaultMaxTokens: number;
  apiKey?: string;
  json?: boolean;
}

function integerIn(flag: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
      throw new MasaError('ARGUMENT_INVALID', `${flag} must be an integer in [${min}, ${max}], got "${value}"`, { details: { flag, value } });
    }
    return parsed;
  };
}

/**
 * `masa serve`: an OpenAI-compatible server (`/v1/completions`, `/v1/chat/completions` with streaming,
 * `/v1/models`, `/health`) over a local model folder (the ORT engine, in a child process so the server
 * stays responsive) or over another OpenAI-compatible server (`--upstream`, a proxy).
 */
export function createServeCommand(options: ServeCommandOptions = {}): Command {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const path = (value: string): string => (isAbsolute(value) ? value : resolve(cwd, value));

  return new Command('serve')
    .description('Serve a model over an OpenAI-compatible HTTP API (completions, chat with streaming, models, health).')
    .option('--model <dir>', 'Hugging Face model folder to run with ONNX Runtime (config.json, safetensors, tokenizer files)')
    .option('--upstream <url>', 'instead of a local model, forward to this OpenAI-compatible API root (e.g. http://gpu-box:8000/v1)')
    .option('--upstream-model <name>', 'model name on the upstream server (default: --served-model-name)')
    .option('--served-model-name <name>', 'model name clients send and /v1/models lists (default: the model folder name)')
    .addOption(new Option('--host <host>', 'interface to listen on (keep the loopback default unless the network is trusted)').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'TCP port (0 picks a free one)').default(8000).argParser(integerIn('--port', 0, 65535)))
    .addOption(new Option('--max-body-bytes <n>', 'largest request body accepted (413 above)').default(4 * 1024 * 1024).argParser(integerIn('--max-body-bytes', 1, 2 ** 31)))
    .addOption(new Option('--max-batch-size <n>', 'sequences decoded together by the local engine').default(32).argParser(integerIn('--max-batch-size', 1, 4096)))
    .addOption(new Option('--threads <n>', 'ONNX Runtime threads per operator of the local engine (more pay off on idle cores only)').default(1).argParser(integerIn('--threads', 1, 1024)))
    .addOption(new Option('--default-max-tokens <n>', 'token budget of requests that give no max_tokens').default(16).argParser(integerIn('--default-max-tokens', 1, 2 ** 31)))
    .option('--api-key <key>', 'require Authorization: Bearer <key> on /v1/* (default: MASA_API_KEY when set)')
    .option('--json', 'print the listening address as one JSON line on stdout')
    .action(async (flags: ServeFlags) => {
      if ((flags.model === undefined) === (flags.upstream === undefined)) {
        throw new MasaError('ARGUMENT_INVALID', 'masa serve needs exactly one of --model <dir> (a local model) and --upstream <url> (a proxy)');
      }
      const modelPath = flags.model === undefined ? undefined : path(flags.model);
      if (modelPath !== undefined && !existsSync(join(modelPath, 'config.json'))) {
        throw new MasaError('FILE_NOT_FOUND', `--model ${flags.model}: ${modelPath} has no config.json; pass a Hugging Face model folder`, { details: { path: modelPath } });
      }
      const served = flags.servedModelName ?? (modelPath !== undefined ? basename(modelPath) : flags.upstreamModel);
      if (served === undefined || served === '') {
        throw new MasaError('ARGUMENT_INVALID', 'with --upstream, pass --served-model-name or --upstream-model (the model name to serve)');
      }
      const apiKey = flags.apiKey ?? (env['MASA_API_KEY'] === '' ? undefined : env['MASA_API_KEY']);
      const upstreamKey = env['MASA_UPSTREAM_API_KEY'];

      let engine: RolloutEngine;
      let tokenizer: ServerTokenizer | undefined;
      if (options._internal?.createEngine !== undefined) {
        engine = options._internal.createEngine(flags, modelPath);
      } else if (modelPath !== undefined) {
        stderr.write(`masa serve: loading ${modelPath} in an engine process …\n`);
        const child = createOrtChildEngine({ modelPath, maxBatchSize: flags.maxBatchSize, intraOpNumThreads: flags.threads });
        engine = child;
        await child.ready();
        // Build the ORT sessions now (for frozen weights past 2 GiB that means writing and mapping them: seconds), so
        // the first request does not wait for it and a model that cannot run fails here, not on a client.
        stderr.write('masa serve: building the ONNX Runtime sessions …\n');
        await child.doGenerate([{ id: 'masa-serve-warm-up', promptTokenIds: [0], maxNewTokens: 1, temperature: 0 }]);
      } else {
        engine = createOpenAIEngine({
          baseURL: flags.upstream as string,
          model: flags.upstreamModel ?? served,
          ...(upstreamKey === undefined || upstreamKey === '' ? {} : { apiKey: upstreamKey }),
          strict: false,
        });
      }
      if (modelPath !== undefined && existsSync(join(modelPath, 'tokenizer.json'))) {
        const loaded = await loadTokenizer({ model: modelPath });
        tokenizer = { encode: (text) => loaded.encode(text), decode: (ids) => loaded.decode(ids) };
      }

      const server = createServer({
        engine,
        model: served,
        host: flags.host,
        port: flags.port,
        maxBodyBytes: flags.maxBodyBytes,
        defaultMaxTokens: flags.defaultMaxTokens,
        ...(tokenizer === undefined ? {} : { tokenizer }),
        ...(apiKey === undefined ? {} : { apiKey }),
      });
      try {
        const { url, port } = await server.listen();
        if (flags.json === true) stdout.write(`${JSON.stringify({ type: 'server-listening', url, port, model: served, engine: engine.name })}\n`);
        else stdout.write(`masa serve: ${served} on ${url}/v1 (engine ${engine.name}); Ctrl-C stops\n`);
        await new Promise<void>((resolvePromise) => {
          const stop = (): void => {
            process.removeListener('SIGINT', stop);
            process.removeListener('SIGTERM', stop);
            resolvePromise();
          };
          const signal = options._internal?.signal;
          if (signal !== undefined) {
            if (signal.aborted) stop();
            else signal.addEventListener('abort', stop, { once: true });
          } else {
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
          }
        });
        stderr.write('masa serve: stopping\n');
      } finally {
        await server.close();
        await engine.close?.();
      }
    });
}
