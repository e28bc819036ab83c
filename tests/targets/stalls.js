// SPDX-License-Identifier: GPL-2.0-only
// A Node.js program that stalls its libuv event loop on purpose.
//
// Same protocol as stalls.py: prints `READY {json}`, waits for "go" on stdin,
// then alternates healthy gaps (timers and a little work) with stalls, and
// prints one JSON line per stall with what it measured itself: kind, tid (the
// main thread's id is the process id), wall-clock start, duration
// (performance.now() around the blocking call), file and line of the blocking
// call (found from the marker comment at its end), then {"event":"all_done"}.
//
// usage: node stalls.js [--kinds cpu,subprocess] [--repeat N] [--stall-ms MS] [--gap-ms MS]
'use strict';
const fs = require('fs');
const path = require('path');
const { execSync } = require('child_process');

const FILE = path.resolve(__filename);

function findMarkers() {
  const markers = {};
  const rx = /^\s*[^/\s].*\/\/\s*STALL:([a-z_]+)\s*$/;
  fs.readFileSync(FILE, 'utf8').split('\n').forEach((text, i) => {
    const m = rx.exec(text);
    if (m) markers[m[1]] = i + 1;
  });
  return markers;
}
const MARKERS = findMarkers();

function parseArgs(argv) {
  const a = { kinds: ['cpu', 'subprocess'], repeat: 1, stallMs: 200, gapMs: 300 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--kinds': a.kinds = v.split(',').filter(Boolean); i++; break;
      case '--repeat': a.repeat = parseInt(v, 10); i++; break;
      case '--stall-ms': a.stallMs = parseFloat(v); i++; break;
      case '--gap-ms': a.gapMs = parseFloat(v); i++; break;
      default: console.error(`unknown option ${argv[i]}`); process.exit(2);
    }
  }
  for (const k of a.kinds) {
    if (!(k in STALLS)) { console.error(`unknown kind ${k}`); process.exit(2); }
  }
  return a;
}

const nowWall = () => (performance.timeOrigin + performance.now()) / 1000;
const mono = () => performance.now(); // ms, monotonic, allocates nothing

const STALLS = {
  cpu(ms) {
    let n = 0;
    const wall = nowWall(), t0 = mono(), end = t0 + ms;
    while (mono() < end) n++; // STALL:cpu
    return [wall, mono() - t0];
  },
  subprocess(ms) {
    const wall = nowWall(), t0 = mono();
    execSync(`sleep ${(ms / 1000).toFixed(3)}`); // STALL:subprocess
    return [wall, mono() - t0];
  },
};

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const args = parseArgs(process.argv.slice(2));
  // healthy background activity: a few timers doing a little work
  let steps = 0;
  const timers = [];
  for (let i = 0; i < 10; i++) {
    timers.push(setInterval(() => {
      steps += JSON.parse(JSON.stringify({ a: [1, 2, 3], s: 'x'.repeat(32) })).a.length;
    }, 2 + 2 * i));
  }
  const go = new Promise((resolve) => {
    let buf = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d) => {
      buf += d;
      if (buf.split('\n').some((l) => l.trim() === 'go')) resolve();
    });
    process.stdin.on('end', () => process.exit(0)); // the test runner is gone
  });
  emit_ready();
  await go;
  let seq = 0;
  for (let r = 0; r < args.repeat; r++) {
    for (const kind of args.kinds) {
      await sleep(args.gapMs);
      const cpu0 = process.cpuUsage();
      const [wall, took] = STALLS[kind](args.stallMs);
      const cpu = process.cpuUsage(cpu0);
      // cpu_ms: the whole process's CPU time (node has no per-thread clock)
      emit({ event: 'stall', kind, tid: process.pid, start: wall, duration_ms: took,
             cpu_ms: (cpu.user + cpu.system) / 1000, cpu_scope: 'process',
             file: FILE, line: MARKERS[kind], func: kind, loop: 0, seq: seq++ });
    }
  }
  await sleep(args.gapMs);
  emit({ event: 'done', loop: 0, tid: process.pid });
  emit({ event: 'all_done' });
  // keep running healthy until killed (timers keep the loop alive)
}

function emit_ready() {
  process.stdout.write('READY ' + JSON.stringify({
    pid: process.pid, node: process.version, markers: MARKERS, file: FILE,
    main_tid: process.pid, loop_tids: [process.pid],
  }) + '\n');
}

main();
