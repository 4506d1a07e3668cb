import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { log } from "../lib/log";
import { SUMMARY_COLUMNS, summary, type MessageRow, type MessageSummary } from "../messages/summary";

/**
 * One `MailHub` Durable Object per mailbox owner (user id) holds everyone waiting for that owner's
 * mail: long-poll waiters (`wait`) and event streams (`fetch`, text/event-stream).
 *
 * It never trusts what it is told: `email()` only *pokes* it after the D1 batch that stored a
 * message has committed, and the hub then reads D1 for messages past the lowest cursor it holds,
 * in `seq` order (the commit order, see migrations/0005). So
 *  - a message that a later failure rolled back is never announced (it is not in D1);
 *  - a lost poke loses nothing: the next poke, or a reconnect with Last-Event-ID, reads it;
 *  - concurrent deliveries are announced in commit order, each exactly once per connection;
 *  - fifty streams on one mailbox cost one D1 read per poke, not fifty.
 * While nobody is waiting the hub holds no timers and costs nothing; an idle connection costs no
 * CPU (a comment line every 25 s keeps proxies from closing it).
 */

export interface HubEvent {
  seq: number;
  message: MessageSummary;
}

interface Stream {
  mailboxId: string | null;
  cursor: number;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  closed: boolean;
}

interface Waiter {
  mailboxId: string;
  cursor: number;
  hasCode: boolean;
  resolve: (m: MessageSummary | null) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The sequence value of the latest committed message (0 before any). */
export async function currentSeq(db: D1Database): Promise<number> {
  return (await db.prepare("SELECT value FROM counters WHERE name = 'message_seq'").first<number>("value")) ?? 0;
}

/**
 * The cursor for "after this message": its own seq when it still exists, else the newest seq of
 * the scope among messages with a smaller id (ids are time-ordered), so a deleted message still
 * marks a point in time.
 */
export async function seqAfter(db: D1Database, messageId: string, scope: { userId: string } | { mailboxId: string }): Promise<number> {
  const [col, val] = "mailboxId" in scope ? ["mailbox_id", scope.mailboxId] : ["user_id", scope.userId];
  const row = await db
    .prepare(
      `SELECT coalesce((SELECT seq FROM messages WHERE id = ?1 AND ${col} = ?2), (SELECT max(seq) FROM messages WHERE ${col} = ?2 AND id <= ?1), 0) AS seq`,
    )
    .bind(messageId, val)
    .first<number>("seq");
  return row ?? 0;
}

export const HEARTBEAT_MS = 25_000;
const PAGE = 200;
/** Chunks queued for a client that does not read before it is dropped. */
const MAX_QUEUED = 1000;
const encoder = new TextEncoder();

export function sseEvent(e: HubEvent): string {
  return `id: ${e.message.id}\nevent: message\ndata: ${JSON.stringify(e.message)}\n\n`;
}

export class MailHub extends DurableObject<Env> {
  private ownerId: string | null = null;
  private readonly streams = new Set<Stream>();
  private readonly waiters = new Set<Waiter>();
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private pumping: Promise<void> | null = null;
  private again = false;

  /** Something was committed for this owner: read and deliver it. Never throws to the caller. */
  async poke(ownerId: string): Promise<void> {
    this.ownerId ??= ownerId;
    if (this.streams.size === 0 && this.waiters.size === 0) return;
    await this.pump();
  }

  /**
   * Long poll: the first message of `mailboxId` committed after `cursor` (with a verification code
   * or link when `hasCode`), or null after `timeoutMs`. The waiter is registered before the first read, so
   * a message committed meanwhile cannot slip between the read and the registration.
   */
  async wait(ownerId: string, mailboxId: string, cursor: number, hasCode: boolean, timeoutMs: number): Promise<MessageSummary | null> {
    this.ownerId ??= ownerId;
    const result = new Promise<MessageSummary | null>((resolve) => {
      const waiter: Waiter = {
        mailboxId,
        cursor,
        hasCode,
        resolve: (m) => {
          clearTimeout(waiter.timer);
          this.waiters.delete(waiter);
          resolve(m);
        },
        timer: setTimeout(() => waiter.resolve(null), Math.max(0, timeoutMs)),
      };
      this.waiters.add(waiter);
    });
    void this.pump();
    return result;
  }

  /** Event stream: `GET /stream?owner=…&mailbox=…&cursor=…` from the router (already authorised). */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    this.ownerId ??= url.searchParams.get("owner");
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const stream: Stream = {
      mailboxId: url.searchParams.get("mailbox") || null,
      cursor: Number(url.searchParams.get("cursor") ?? "0") || 0,
      writer: writable.getWriter(),
      closed: false,
    };
    this.streams.add(stream);
    // A client that goes away cancels the readable side: forget the stream at once.
    stream.writer.closed.then(
      () => this.drop(stream),
      () => this.drop(stream),
    );
    this.write(stream, `retry: 3000\n: connected\n\n`);
    this.startHeartbeat();
    void this.pump(); // replays what the client missed (cursor from Last-Event-ID), then goes live
    return new Response(readable, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" },
    });
  }

  /** For tests and the bench: how many are waiting right now. */
  stats(): { streams: number; waiters: number } {
    return { streams: this.streams.size, waiters: this.waiters.size };
  }

  /** Sends the keep-alive comment now (what the 25 s timer does); a gone client is dropped by it. */
  keepAlive(): void {
    for (const s of this.streams) this.write(s, `: keep-alive ${Date.now()}\n\n`);
  }

  private drop(stream: Stream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.streams.delete(stream);
    stream.writer.abort().catch(() => {});
    if (this.streams.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  /**
   * Queues `text` on the stream without waiting for the client to read it (the writer keeps the
   * order), so one slow reader never holds up the others. A client that stops reading altogether
   * is dropped once MAX_QUEUED chunks are waiting; it reconnects and replays from Last-Event-ID.
   */
  private write(stream: Stream, text: string): void {
    if (stream.closed) return;
    if ((stream.writer.desiredSize ?? 0) < -MAX_QUEUED) return this.drop(stream);
    stream.writer.write(encoder.encode(text)).catch(() => this.drop(stream));
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => this.keepAlive(), HEARTBEAT_MS);
  }

  /** Runs one read-and-deliver pass at a time; a poke during a pass asks for one more. */
  private pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      try {
        do {
          this.again = false;
          await this.deliver();
        } while (this.again);
      } catch (e) {
        log("warn", "push.hub.read_failed", { error: e instanceof Error ? e.message : String(e) });
      } finally {
        this.pumping = null;
      }
    })();
    return this.pumping;
  }

  private async deliver(): Promise<void> {
    if (!this.ownerId || (this.streams.size === 0 && this.waiters.size === 0)) return;
    let from = Math.min(...[...this.streams].map((s) => s.cursor), ...[...this.waiters].map((w) => w.cursor));
    for (;;) {
      const { results } = await this.env.DB.prepare(
        `SELECT ${SUMMARY_COLUMNS}, m.seq FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
         WHERE m.user_id = ?1 AND m.seq > ?2 AND b.status NOT IN ('destroying', 'creating')
         ORDER BY m.seq LIMIT ${PAGE}`,
      )
        .bind(this.ownerId, from)
        .all<MessageRow & { seq: number }>();
      for (const row of results) {
        const event: HubEvent = { seq: row.seq, message: summary(row) };
        for (const s of this.streams) {
          if (row.seq <= s.cursor) continue;
          s.cursor = row.seq;
          if (s.mailboxId === null || s.mailboxId === row.mailbox_id) this.write(s, sseEvent(event));
        }
        for (const w of this.waiters) {
          if (row.seq <= w.cursor) continue;
          if (w.mailboxId === row.mailbox_id && (!w.hasCode || row.verification_code || row.verification_link)) w.resolve(event.message);
          else w.cursor = row.seq; // never a match: not read again for this waiter
        }
      }
      if (results.length < PAGE) return;
      from = results[results.length - 1]!.seq;
    }
  }
}

/** The hub of a mailbox owner. */
export function hubStub(env: Env, ownerId: string) {
  return env.HUB.get(env.HUB.idFromName(ownerId));
}

/**
 * Tells the owner's hub that a message was committed. Called after the D1 batch; a failure is
 * logged and never fails delivery (the next poke or a reconnect's replay closes the gap).
 */
export async function notifyHub(env: Env, ownerId: string): Promise<void> {
  try {
    await hubStub(env, ownerId).poke(ownerId);
  } catch (e) {
    log("warn", "push.notify_failed", { userId: ownerId, error: e instanceof Error ? e.message : String(e) });
  }
}
