// Preloaded (`node --import`) by tools/bench/startup.ts into the `mtl` process it times: at exit,
// writes the process's `mtl:*` performance marks (ms since process start, CPU µs so far) and its
// total CPU time as JSON to the file named by MTL_STARTUP_MARKS.
import { writeFileSync } from 'node:fs';

const file = process.env.MTL_STARTUP_MARKS;
if (file) {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    const marks = performance
      .getEntriesByType('mark')
      .filter((m) => m.name.startsWith('mtl:'))
      .map((m) => ({ name: m.name.slice(4), ms: m.startTime, cpuMs: (m.detail?.cpuMicros ?? 0) / 1000 }));
    marks.push({ name: 'exit', ms: performance.now(), cpuMs: (cpu.user + cpu.system) / 1000 });
    writeFileSync(file, JSON.stringify(marks));
  });
}
