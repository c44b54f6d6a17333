export { PiAdapter, piModelsConfig, resolvePiCommand, type PiAdapterOptions } from './adapter';
export { PERMISSION_DIALOG_TITLE, PI_GATE_EXTENSION } from './extension';
export { piToolKind, piToolNames } from './tools';
