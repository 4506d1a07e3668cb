import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config";
import type { MailboxRow } from "../../src/mailboxes/repo";
import { MailboxService } from "../../src/mailboxes/service";
import { activeDomain, api, makeUser, resetCloudflare, sim, simZone, type Caller } from "./helpers";

/** Defects found by the fault soak (scripts/soak.mjs), each pinned by a test. */

let admin: Caller;
let root: string;
let domainId: string;
let seq = 0;

beforeEach(async () => {
  await resetCloudflare();
  admin = await makeUser("admin");
  root = `soakreg${++seq}-${crypto.randomUUID().slice(0, 6)}.com`;
  ({ id: domainId } = await activeDomain(admin.key, root));
});

/** Rule ids the app has on record for the domain's live mailboxes. */
async function recordedRuleIds(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    "SELECT routing_rule_id FROM mailboxes WHERE root_domain = ? AND status <> 'destroyed' AND routing_rule_id IS NOT NULL",
  )
    .bind(root)
    .all<{ routing_rule_id: string }>();
  return results.map((r) => r.routing_rule_id).sort();
}

async function simRules(): Promise<Array<{ id: string; address: string | undefined }>> {
  return ((await simZone(root))?.rules ?? []).map((r) => ({ id: r.id, address: r.matchers[0]?.value })).sort((a, b) => a.id.localeCompare(b.id));
}

async function coveredMailboxes(...locals: string[]): Promise<Array<{ id: string; address: string }>> {
  expect((await api("POST", `/api/domains/${domainId}/catch-all/enable`, { key: admin.key })).status).toBe(200);
  const out = [];
  for (const local of locals) {
    const res = await api("POST", "/api/mailboxes", { key: admin.key, body: { localPart: local, subdomain: "ca", mailDomain: root } });
    expect(res.status).toBe(201);
    expect(res.body.routingRuleId).toBeNull();
    out.push({ id: res.body.id, address: res.body.address });
  }
  return out;
}

describe("turning catch-all off under Cloudflare faults", () => {
  it("a restore that fails part way leaves no rule without its mailbox, even when deleting rules fails too", async () => {
    // Soak finding: restoring the literal rules failed on one mailbox, the rollback's DELETE of the
    // rules already made hit a timeout / 429, and those rules stayed in Cloudflare with no mailbox
    // pointing at them; the next disable made a second rule for the same addresses.
    const [a, b] = await coveredMailboxes("alpha", "bravo");
    await sim.config({ rulesLimit: 1 }); // the first rule fits, the second is refused
    await sim.fault({ method: "DELETE", path: "/zones/*/email/routing/rules/*", kind: "5xx", count: 5 });
    const off = await api("POST", `/api/domains/${domainId}/catch-all/disable`, { key: admin.key });
    expect(off.status).not.toBe(200);
    await sim.clearFaults();
    await sim.config({ rulesLimit: 200 });
    // Every rule in Cloudflare belongs to a mailbox on record, and catch-all still covers the rest.
    expect((await simRules()).map((r) => r.id)).toEqual(await recordedRuleIds());
    const row = (await env.DB.prepare("SELECT catch_all_enabled FROM domains WHERE id = ?").bind(domainId).first<{ catch_all_enabled: number }>())!;
    expect(row.catch_all_enabled).toBe(1);

    // Turning it off again finishes the job: exactly one rule per mailbox.
    const again = await api("POST", `/api/domains/${domainId}/catch-all/disable`, { key: admin.key });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.catchAllEnabled).toBe(false);
    const rules = await simRules();
    expect(rules.map((r) => r.id)).toEqual(await recordedRuleIds());
    expect(rules.map((r) => r.address).sort()).toEqual([a!.address, b!.address].sort());
  });

  it("a mailbox deleted while its rule is being restored keeps no rule behind", async () => {
    // The delete route reads the mailbox row before it destroys it: if catch-all is turned off in
    // between, the row it holds says "no rule" while Cloudflare now has one for the address.
    const [a] = await coveredMailboxes("charlie");
    const stale = (await env.DB.prepare("SELECT * FROM mailboxes WHERE id = ?").bind(a!.id).first<MailboxRow>())!;
    expect(stale.routing_rule_id).toBeNull();
    expect((await api("POST", `/api/domains/${domainId}/catch-all/disable`, { key: admin.key })).status).toBe(200);
    expect(await simRules()).toHaveLength(1);
    const destroyed = await new MailboxService(env, loadConfig(env)).destroy(stale);
    expect(destroyed.status).toBe("destroyed");
    expect(await simRules()).toEqual([]);
    expect(await recordedRuleIds()).toEqual([]);
  });
});
