export * from './connect';
export * from './delta-order';
export * from './http';
export * from './session-feed';
export * from './wire';
