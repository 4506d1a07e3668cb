/**
 * Saves the simulator state to a JSON file (debounced, atomic write-then-rename) and loads it at
 * start, so zones, rules, tokens and config survive a restart. Faults, the request log and rate
 * counters are deliberately not persisted. Imports node:fs/path and state.ts types.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { dirname } from "node:path";
import type { SimState } from "./state.ts";

/** Debounce between a mutation and the write (the brief's bound is ≤ 100 ms). */
export const SAVE_DEBOUNCE_MS = 50;

/** Load a state file; undefined when it does not exist. Throws on a corrupt or foreign file. */
export function loadState(path: string): SimState | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<SimState>;
  if (parsed.version !== 1 || typeof parsed.zones !== "object" || typeof parsed.tokens !== "object") {
    throw new Error(`${path} is not a simulator state file (version 1)`);
  }
  return parsed as SimState;
}

/** Debounced writer of one state file. */
export class StateFile {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly snapshot: () => SimState,
    private readonly delayMs = SAVE_DEBOUNCE_MS,
  ) {}

  /** Schedule a save (coalesces bursts of mutations into one write). */
  schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, this.delayMs);
  }

  /** Write now if a save is pending. */
  flush(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.write();
  }

  private write(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot(), null, 1));
    renameSync(tmp, this.path);
  }
}
