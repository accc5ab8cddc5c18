/**
 * Targets that bench/README.md's latest recorded measurement already missed, so that a
 * `MISSED` line says whether it is news (a regression) or a known gap. Keep it in step
 * with the README's "Measured" sections: when a target is met, or newly missed, there.
 */
/** Every target a benchmark reports, by id. */
export type TargetId =
  | "ingress throughput"
  | "ingress p99"
  | "ingress 50-event cost"
  | "consumer runs/s"
  | "consumer workflows scale"
  | "resume resumes/s"
  | "resume pauses/s"
  | "resume p99"
  | "count events/s"
  | "count p99";

const KNOWN_MISSES: Partial<Record<TargetId, string>> = {
  // Met in one of three runs at 1272ad1 (0.84), missed in the others: still listed.
  "ingress throughput": "0.67, 0.84 and 0.70 at 1272ad1, 2026-12-04 (bench/README.md, Ingress)",
  // The minimal Worker's own I/O costs 4-6x for 50 events locally (--diagnose): below the floor.
  "ingress 50-event cost": "4.97, 6.13 and 5.29 at 1272ad1, 2026-12-04 (bench/README.md, Ingress)",
  // At the target, not reliably above it: 0.94-1.13x over six runs, median 1.02x.
  "resume resumes/s": "0.94x and 0.999x in 2 of 6 runs (median 1.02x), 2026-12-04 (bench/README.md, Resume)",
  "count events/s": "446 (1 key) and 133 (1,000 keys) at 8545638, 2026-12-04 (bench/README.md, Counts)",
  "count p99": "350 ms on 1,000 keys at 8545638, 2026-12-04 (bench/README.md, Counts)",
};

/** `met`, or `MISSED` with whether bench/README.md already records it missed. */
export function verdict(met: boolean, target: TargetId): string {
  if (met) return "met";
  const known = KNOWN_MISSES[target];
  return known ? `MISSED (known: ${known})` : "MISSED (new: not missed at bench/README.md's last measurement)";
}
