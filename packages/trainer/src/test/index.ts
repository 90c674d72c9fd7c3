export { createFakeBackend } from './fake-backend.js';
export type { FakeBackend, FakeBackendOptions } from './fake-backend.js';
export { createScriptedEngine } from './scripted-engine.js';
export type {
  ScriptedEngine,
  ScriptedEngineCall,
  ScriptedEngineOptions,
  ScriptedEngineRespondInput,
  ScriptedResponse,
} from './scripted-engine.js';
