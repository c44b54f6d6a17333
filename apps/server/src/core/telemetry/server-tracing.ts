// Imported by the server's entry point before anything loads `http`, `pg` or `ioredis` (see tracing.ts).
import { startTracing } from './tracing';

startTracing('yoke-server');
