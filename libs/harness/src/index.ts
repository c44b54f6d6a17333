export * from './adapter';
export * from './capabilities';
export * from './launch';
export * from './registry';
export * from './yoke';
export * from './openai-agents';
export * from './acp';
