/**
 * Identifier and timestamp helpers for the simulator. Owns the two "shapes" Cloudflare uses
 * everywhere in these endpoints: 32-character lowercase hex ids and RFC 3339 timestamps with
 * microseconds. Imports only node built-ins.
 */
import { createHash, randomBytes } from "node:crypto";

/** 32 lowercase hex characters, like every zone, rule, token and settings id in the v4 API. */
export const HEX32 = /^[0-9a-f]{32}$/;

/** A fresh random 32-hex identifier. */
export function randomId(): string {
  return randomBytes(16).toString("hex");
}

/** A deterministic 32-hex identifier derived from some text (stable across restarts). */
export function stableId(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

/** A small deterministic integer in [0, modulo) derived from some text. */
export function stableNumber(text: string, modulo: number): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0) % modulo;
}

let lastMicros = 0;

/**
 * Now as an RFC 3339 UTC timestamp with microsecond precision
 * (`2026-08-09T13:05:11.120524Z`), strictly increasing within the process so that
 * `created`/`modified` pairs and sort orders are never ambiguous.
 */
export function timestamp(): string {
  let micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  if (micros <= lastMicros) micros = lastMicros + 1;
  lastMicros = micros;
  const iso = new Date(Math.floor(micros / 1000)).toISOString(); // ...SS.mmmZ
  return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, "0")}Z`;
}
