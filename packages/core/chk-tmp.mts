import { runChecker } from "./src/testing/checker";

const from = Number(process.argv[2]),
  to = Number(process.argv[3]);
let bad = 0;
for (let seed = from; seed <= to; seed++) {
  const r = runChecker({ seed, steps: 3_000 });
  if (r.violation !== undefined) {
    bad++;
    console.log(`seed ${seed}: ${JSON.stringify(r.violation).slice(0, 300)}`);
  }
}
console.log(`seeds ${from}..${to}: ${bad} violations`);
