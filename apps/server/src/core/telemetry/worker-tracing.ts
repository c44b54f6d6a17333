// Imported by the worker's entry point before anything loads `pg` or `ioredis` (see tracing.ts).
import { startTracing } from './tracing';

startTracing('yoke-worker');
