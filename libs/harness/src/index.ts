export * from './adapter';
export * from './agent-spec';
export * from './launch';
export * from './registry';
export * from './yoke';
