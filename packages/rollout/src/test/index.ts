export { createScriptedEngine } from './scripted-engine.js';
export type { ScriptedEngine, ScriptedEngineOptions, ScriptedRespondInput, ScriptedResponse } from './scripted-engine.js';
