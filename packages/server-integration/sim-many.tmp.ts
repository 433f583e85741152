import { simulate } from "./src/testing/simulator/index";
const from = Number(process.argv[2] ?? 1), to = Number(process.argv[3] ?? 10), events = Number(process.argv[4] ?? 20000);
let totalEv = 0, totalSim = 0; const t0 = performance.now();
for (let seed = from; seed <= to; seed++) {
  const s0 = performance.now();
  const r = await simulate({ seed, events, trace: "off", unsafeTestingFaults: JSON.parse(process.env.BUG ?? "{}"), faults: JSON.parse(process.env.FAULTS ?? "{}") });
  totalEv += r.events; totalSim += r.simulatedMs;
  const w = performance.now() - s0;
  console.log(`seed ${seed} ok=${r.ok} ev=${r.events} sim=${(r.simulatedMs/1000).toFixed(1)}s wall=${w.toFixed(0)}ms restarts=${r.restarts} ops=${JSON.stringify(r.operations)} ${r.violations.map(v=>v.kind+": "+v.detail.slice(0,300)).join(" | ")}`);
}
const ms = performance.now() - t0;
console.log(`TOTAL ${to-from+1} seeds ${totalEv} events ${ms.toFixed(0)}ms ${(totalEv/ms*1000).toFixed(0)} ev/s ${(totalSim/ms).toFixed(1)} sim-s/wall-s`);
