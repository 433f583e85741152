import { runChecker } from "./src/testing/checker";

for (const steps of [2000, 3000]) {
  const r = runChecker({ seed: 4905, steps });
  console.log(steps, JSON.stringify(r.violation), r.failedAt);
}
