// Preloaded into the live stack's server (`NODE_OPTIONS=-r …`, since Node refuses `--cpu-prof` there) when the bench
// runs with --cpu-prof: profiles the whole process with the inspector and writes `server-<pid>.cpuprofile` into
// YOKE_BENCH_CPU_PROF when it is told to stop (SIGTERM, as the stack stops it; its own handler then shuts it down).
'use strict';
const dir = process.env.YOKE_BENCH_CPU_PROF;
if (dir && /apps\/server\//.test(process.argv[1] ?? '')) {
  const { Session } = require('node:inspector');
  const { writeFileSync, mkdirSync } = require('node:fs');
  const { join } = require('node:path');
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.once('SIGTERM', () => {
    // The in-process inspector answers synchronously, so the profile is written before the process ends.
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `server-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
