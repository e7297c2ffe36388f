// The peer's side of make bench's executor section: runs one workload (a
// definition and an input, crates/bench/workloads/*.json) through
// aws-local-stepfunctions, one execution after another, for about the given
// number of seconds; prints {"executions", "seconds", "output"} as JSON.
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';

const [file, secondsText] = process.argv.slice(2);
const { definition, input } = JSON.parse(readFileSync(file, 'utf8'));
const machine = new StateMachine(definition, { validationOptions: { checkPaths: false } });
const seconds = Number(secondsText ?? '3');
let output = null;
// Warm-up: let the JIT see the code before it is timed, for 50 runs or 1 s,
// whichever ends first (as orderflow-bench's rounds do).
const warmUpStart = process.hrtime.bigint();
for (let i = 0; i < 50 && process.hrtime.bigint() - warmUpStart < 1_000_000_000n; i++) {
  output = await machine.run(input).result;
}
let executions = 0;
const start = process.hrtime.bigint();
const budget = BigInt(Math.round(seconds * 1e9));
while (process.hrtime.bigint() - start < budget) {
  output = await machine.run(input).result;
  executions++;
}
const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ executions, seconds: elapsed, output }));
