import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings for the server process; the entry point imports this first, before any other module allocates.
 *
 * Fan-out allocates a few small objects per viewer per event (socket.io packet, frame, write request). V8's
 * allocation-site pretenuring, tipped by the long-lived allocations of start-up, moves some of those sites to old
 * space; every scavenge then keeps alive the young objects that those (already dead) old ones point to, and promotes
 * them. Measured with bench/fanout in team mode: 1.3 MB promoted per scavenge and 3-4 ms pauses with it, 12 KB and
 * under 1 ms without, and no change to the rest of the server's work.
 */
setFlagsFromString('--no-allocation-site-pretenuring');
/**
 * WebAssembly runs in this process: Prisma's query compiler in both modes, and the whole of Postgres (PGlite) in
 * embedded mode. V8 compiles each wasm function with its baseline compiler (Liftoff) when first called and, once it
 * has run ~1.8 MB of code, again with TurboFan on background threads. For Postgres that recompiles hundreds of large
 * functions during boot and the migrations; TurboFan's compile zones (peak ~100 MB) stay resident in malloc's arenas
 * and its code next to them. With this budget (~550x the default) only functions that keep running a lot are
 * optimized. Measured with bench/memory (bench/README.md): embedded server at idle 326 -> 223 MB together with its
 * smaller semi-space (Liftoff alone: 240 MB), team server about -35 MB, less compiling during boot, request latency
 * unchanged within noise (Prisma caches its query plans, so its compiler runs once per query shape).
 */
setFlagsFromString('--wasm-tiering-budget=1000000000');
