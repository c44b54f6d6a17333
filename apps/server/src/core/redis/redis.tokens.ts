/** The shared ioredis client (team mode only; null in embedded mode). */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
