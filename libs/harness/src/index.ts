export * from './adapter';
export * from './agent-spec';
export * from './registry';
export * from './yoke';
