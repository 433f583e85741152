import { simulate } from "./src/testing/simulator/index";
const r = await simulate({ seed: Number(process.argv[2]), events: 20000, trace: "lines", unsafeTestingFaults: { serveReadsWithoutQuorum: true }, faults: { crashes: false, corruption: false, diskFull: false, slowDisk: false, clockJumps: false, pauses: false } });
console.log(r.trace.join("\n"));
