/** `npm run crash-test` options: the scenario's size, when to kill, how to move the cron. */
import { parseCli, UsageError } from "../cli/args";

export const HELP = `Usage: npm run crash-test [-- options]

  --runs N              runs that act, wait for a later event on their asset, act again (default 200)
  --timeouts M          runs that wait for an event that never comes and act on timeout (default 50; 0: none)
  --timeout-seconds S   their event node's timeout, real time: alarms keep real time (default 60)
  --kill-after K        SIGKILL the process group once K awaited deliveries were accepted (default N/2)
  --kill-resumed R      ... and R resumed runs made their second action (default 10), so that
                        resumes are in flight; sending goes on meanwhile
  --concurrency C       deliveries in flight (default 8)
  --step-minutes X      how far each cron call moves the cron's clock (default 20)
  --horizon-minutes H   how far to move it in all (default 180)
  --step-wait S         real seconds between cron calls (default 5)
  --deadline S          real seconds to keep waiting for the end after the last step (default 360: longer than
                        the 5-minute real-time lease of the engine before issue 7)
  --strict-repeats      fail (not warn) when an action is repeated under its own Idempotency-Key
  --port P              wrangler dev's port (default 8794; the receiver uses P+1, the inspector P+2)
  --keep                keep the temporary state folder and logs (kept anyway on FAIL)
  -h, --help            this text`;

/** Parsed options, with defaults; throws naming a bad option. */
export function options(argv: string[] = process.argv.slice(2)) {
  const { values } = parseCli(argv, {
    runs: { type: "string" },
    timeouts: { type: "string" },
    "timeout-seconds": { type: "string" },
    "kill-after": { type: "string" },
    "kill-resumed": { type: "string" },
    concurrency: { type: "string" },
    "step-minutes": { type: "string" },
    "horizon-minutes": { type: "string" },
    "step-wait": { type: "string" },
    deadline: { type: "string" },
    "strict-repeats": { type: "boolean" },
    port: { type: "string" },
    keep: { type: "boolean" },
  });
  const num = (name: keyof typeof values, fallback: number, min = 1) => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = typeof raw === "string" && /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : Number.NaN;
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min} (got "${raw}")`);
    return n;
  };
  const runs = num("runs", 200);
  return {
    help: values.help ?? false,
    runs,
    timeouts: num("timeouts", 50, 0),
    timeoutSeconds: num("timeout-seconds", 60),
    killAfter: num("kill-after", Math.max(1, Math.floor(runs / 2))),
    killResumed: num("kill-resumed", Math.min(10, runs), 0),
    concurrency: num("concurrency", 8),
    stepMinutes: num("step-minutes", 20),
    horizonMinutes: num("horizon-minutes", 180),
    stepWaitSeconds: num("step-wait", 5, 0),
    deadlineSeconds: num("deadline", 360, 0),
    strictRepeats: values["strict-repeats"] ?? false,
    port: num("port", 8794),
    keep: values.keep ?? false,
  };
}

export type Options = ReturnType<typeof options>;
