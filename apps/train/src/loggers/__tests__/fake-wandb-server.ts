/**
 * A stand-in for the W&B API on 127.0.0.1, for tests only: it answers the
 * GraphQL queries `@wandb/sdk` 0.5.1 makes (Viewer, UpsertBucket) and its
 * file-stream posts, and records every request. No network is touched.
 */
import { createServer, type Server } from 'node:http';

export interface RecordedRequest {
  url: string;
  authorization: string | undefined;
  body: unknown;
}

export interface FakeWandbServer {
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface FakeWandbServerOptions {
  /** Answer every request with this HTTP status instead (401: a refused key). */
  failWith?: number;
}

export async function startFakeWandbServer(options: FakeWandbServerOptions = {}): Promise<FakeWandbServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      let body: unknown = text;
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        // Keep the raw text.
      }
      requests.push({ url: request.url ?? '', authorization: request.headers.authorization, body });
      response.setHeader('content-type', 'application/json');
      if (options.failWith !== undefined) {
        response.statusCode = options.failWith;
        response.end(JSON.stringify({ errors: [{ message: 'refused' }] }));
        return;
      }
      const query = (body as { query?: string; variables?: Record<string, unknown> }).query ?? '';
      const variables = (body as { variables?: Record<string, unknown> }).variables ?? {};
      if (request.url === '/graphql' && query.includes('query Viewer')) {
        response.end(JSON.stringify({ data: { viewer: { id: 'viewer-1', entity: 'tester', flags: null, teams: { edges: [] } } } }));
      } else if (request.url === '/graphql' && query.includes('UpsertBucket')) {
        const project = { id: 'project-1', name: variables['project'], entity: { id: 'entity-1', name: 'tester' } };
        const bucket = { id: 'bucket-1', name: variables['name'], displayName: variables['displayName'] ?? 'generated-name', description: null, config: null, sweepName: null, project };
        response.end(JSON.stringify({ data: { upsertBucket: { bucket, inserted: true } } }));
      } else {
        response.end('{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
