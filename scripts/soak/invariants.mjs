// The soak's invariants, computed from the final simulator state, the app's own records and what
// the workload saw. Each invariant: {name, ok, figures, mismatches}.

const WORKER = "kaisoumail";
const MAX_LISTED = 25;

function invariant(name, figures, mismatches, extraOk = true) {
  return { name, ok: mismatches.length === 0 && extraOk, figures: { ...figures, mismatches: mismatches.length }, mismatches: mismatches.slice(0, MAX_LISTED) };
}

const pointsAtWorker = (rule) => rule?.enabled === true && (rule.actions ?? []).some((a) => a.type === "worker" && (a.value ?? []).includes(WORKER));

export function checkInvariants(x) {
  const { domains, dashboardZones, mailboxes, messages, recheck, probes, catchAllFound, final, simLog, stats, cron, settle } = x;
  const zones = final.simState.zones;
  const simById = new Map(zones.map((z) => [z.zone.id, z]));
  const simByName = new Map();
  for (const z of zones) simByName.set(z.zone.name, [...(simByName.get(z.zone.name) ?? []), z]);
  const rows = new Map(final.domains.map((r) => [r.rootDomain, r]));
  const invariants = [];

  // 1. Alarms settled once the faults stopped.
  invariants.push(
    invariant("alarms settled after the faults stopped", { secondsToSettle: settle.secondsToSettle, rounds: settle.rounds, mailboxDeletesRetried: settle.redeletes }, settle.unsettled),
  );

  // 2. Every domain's status agrees with its zone and Email Routing state in the simulator.
  {
    const mm = [];
    const f = { domains: 0, active: 0, pending: 0, deleted: 0, catchAllOn: 0, catchAllOff: 0 };
    for (const d of domains) {
      const row = rows.get(d.name);
      const named = simByName.get(d.name) ?? [];
      if (d.plan.startsWith("delete")) {
        f.domains++;
        if (row) mm.push(`${d.name}: meant to be deleted but is ${row.status}`);
        else f.deleted++;
        if (named.length) mm.push(`${d.name}: deleted, but the simulator still has zone ${named.map((z) => z.zone.id).join(", ")}`);
        continue;
      }
      if (!row) {
        if (d.kind === "catalog" && dashboardZones.has(d.name)) mm.push(`${d.name}: catalog enable left no record`);
        else mm.push(`${d.name}: no record`);
        continue;
      }
      f.domains++;
      const z = row.zoneId ? simById.get(row.zoneId) : undefined;
      if (!z) {
        mm.push(`${d.name}: ${row.status}, zone ${row.zoneId} not in the simulator`);
        continue;
      }
      if (named.length !== 1 || named[0].zone.id !== row.zoneId) mm.push(`${d.name}: record points at ${row.zoneId}, simulator has ${named.map((n) => n.zone.id).join(", ")}`);
      const expected = d.plan === "pending" ? "pending" : "active";
      if (row.status !== expected) mm.push(`${d.name}: ${row.status}, expected ${expected} (${row.lastProvisionErrorCode ?? "no error"})`);
      if (row.status === "active") {
        f.active++;
        if (z.zone.status !== "active") mm.push(`${d.name}: active but its zone is ${z.zone.status}`);
        if (!z.settings.enabled) mm.push(`${d.name}: active but Email Routing is not enabled on its zone`);
      } else if (row.status === "pending") {
        f.pending++;
        if (!["pending", "initializing"].includes(z.zone.status)) mm.push(`${d.name}: pending but its zone is ${z.zone.status}`);
      }
      const simOn = pointsAtWorker(z.catch_all);
      if (row.catchAllEnabled) f.catchAllOn++;
      else f.catchAllOff++;
      if (row.catchAllEnabled !== simOn) mm.push(`${d.name}: catch-all ${row.catchAllEnabled ? "on" : "off"}, simulator catch-all ${JSON.stringify({ enabled: z.catch_all.enabled, actions: z.catch_all.actions })}`);
    }
    // Every zone in the simulator is a domain's zone or a dashboard zone.
    const known = new Set(domains.map((d) => d.name));
    for (const z of zones) if (!known.has(z.zone.name)) mm.push(`stray zone ${z.zone.name} (${z.zone.id})`);
    invariants.push(invariant("every domain agrees with its zone and Email Routing state", f, mm));
  }

  // 3. No zone created twice.
  {
    const mm = [];
    const names = zones.map((z) => z.zone.name);
    const dupes = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
    for (const n of dupes) mm.push(`${n}: ${names.filter((m) => m === n).length} zones`);
    for (const d of domains) if (d.zoneIdsSeen.size > 1) mm.push(`${d.name}: seen with zones ${[...d.zoneIdsSeen].join(", ")}`);
    const boundZones = zones.filter((z) => !dashboardZones.has(z.zone.name)).length;
    const expectedCreates = boundZones + simLog.deleteZones.ok;
    if (simLog.postZones.ok !== expectedCreates) {
      mm.push(`successful POST /zones: ${simLog.postZones.ok}, zones present from binds ${boundZones} + zones deleted ${simLog.deleteZones.ok} = ${expectedCreates}`);
    }
    if (simLog.truncated) mm.push("the simulator's request log was truncated; POST /zones could not be counted");
    invariants.push(
      invariant(
        "no zone created twice",
        { zones: zones.length, uniqueNames: new Set(names).size, successfulZoneCreates: simLog.postZones.ok, zonesDeleted: simLog.deleteZones.ok, createsRefused: simLog.postZones.exists },
        mm,
      ),
    );
  }

  // 4. Routing rules are exactly the rules of the registered active mailboxes.
  {
    const mm = [];
    const f = { simRules: 0, mailboxRules: 0, liveMailboxes: final.mailboxes.length, orphaned: 0, missing: 0, missingDns: 0 };
    const live = final.mailboxes.filter((m) => m.status === "active" || m.status === "expired");
    for (const m of final.mailboxes) if (m.status === "destroying") mm.push(`${m.address}: still destroying`);
    if (final.mailboxes.length >= 1000) mm.push("mailbox list hit its 1,000-row limit: not every mailbox could be checked");
    const liveRows = final.domains.filter((r) => r.zoneId);
    const checkedZones = new Set();
    for (const row of liveRows) {
      const z = simById.get(row.zoneId);
      if (!z) continue;
      checkedZones.add(z.zone.id);
      const expected = new Map();
      for (const m of live.filter((mb) => mb.rootDomain === row.rootDomain)) {
        if (m.routingRuleId) expected.set(m.routingRuleId, m.address);
        else if (m.source === "registered" && m.status === "active" && !row.catchAllEnabled) {
          f.missing++;
          mm.push(`${m.address}: active, no rule and no catch-all`);
        }
        if (m.source === "registered" && m.status === "active") {
          const fqdn = `${m.subdomain}.${row.rootDomain}`;
          if (!(z.settings.subdomains ?? []).some((s) => s.name === fqdn && s.enabled)) {
            f.missingDns++;
            mm.push(`${m.address}: no Email Routing DNS for ${fqdn}`);
          }
        }
      }
      f.mailboxRules += expected.size;
      f.simRules += z.rules.length;
      for (const rule of z.rules) {
        const literal = rule.matchers.find((mt) => mt.type === "literal" && mt.field === "to")?.value;
        const want = expected.get(rule.id);
        if (want === undefined) {
          f.orphaned++;
          mm.push(`orphaned rule ${rule.id} (${literal}) in ${row.rootDomain}`);
        } else if (want !== literal || !pointsAtWorker(rule)) mm.push(`rule ${rule.id}: matches ${literal} → ${JSON.stringify(rule.actions)}, mailbox ${want}`);
        expected.delete(rule.id);
      }
      for (const [id, address] of expected) {
        f.missing++;
        mm.push(`${address}: rule ${id} not in the simulator`);
      }
    }
    for (const z of zones) {
      if (checkedZones.has(z.zone.id) || z.rules.length === 0) continue;
      f.orphaned += z.rules.length;
      mm.push(`${z.zone.name}: ${z.rules.length} rules on a zone without a live domain`);
    }
    invariants.push(invariant("routing rules are exactly the registered active mailboxes' rules", f, mm));
  }

  // 5. Every accepted message is readable with byte-identical raw content.
  {
    const mm = [];
    const accepted = messages.filter((m) => m.status === 200);
    const notAccepted = messages.filter((m) => m.status !== 200);
    for (const m of notAccepted) mm.push(`${m.tag} → ${m.to}: handler answered ${m.status} for a live mailbox`);
    const atDelivery = accepted.filter((m) => m.verified).length;
    for (const m of accepted.filter((m) => !m.verified)) mm.push(`${m.tag} → ${m.to}: at delivery ${m.why}`);
    const recheckOk = recheck.filter((r) => r.v.ok).length;
    for (const r of recheck.filter((r) => !r.v.ok)) mm.push(`${r.msg.tag} → ${r.msg.to}: at the end ${r.v.why}`);
    const storedRejects = probes.rejected.filter((p) => p.stored);
    for (const p of storedRejects) mm.push(`${p.tag} → ${p.to}: stored for a deleted mailbox`);
    const badCatchAll = catchAllFound.filter((p) => !p.identical || p.copies !== 1);
    for (const p of badCatchAll) mm.push(`${p.tag} → ${p.to}: catch-all copy ${p.identical ? "" : "differs"} (${p.copies} stored)`);
    const bytes = accepted.reduce((n, m) => n + m.size, 0);
    invariants.push(
      invariant(
        "every accepted message is readable with byte-identical raw content",
        {
          delivered: messages.length,
          accepted: accepted.length,
          verifiedAtDelivery: atDelivery,
          reverifiedAtEnd: `${recheckOk}/${recheck.length}`,
          acceptedMiB: Math.round((bytes / 1048576) * 10) / 10,
          catchAllProbes: probes.catchAll.length,
          catchAllAccepted: catchAllFound.length,
          deletedAddressProbes: probes.rejected.length,
          deletedAddressStored: storedRejects.length,
          handlerFailuresRetried: stats.handlerFailures.length,
        },
        mm,
        accepted.length > 0,
      ),
    );
  }

  // 6. Every request was answered within its time limit.
  {
    const ops = stats.summary();
    const attempts = ops.reduce((n, s) => n + s.attempts, 0);
    const maxMs = Math.max(0, ...ops.map((s) => s.maxMs));
    invariants.push(
      invariant(
        "every request answered within its time limit",
        { requests: attempts, limitMs: x.o.limitMs, maxMs, overLimit: stats.overLimit.length },
        stats.overLimit.map((r) => `${r.method} ${r.path} (${r.op}) not answered within ${r.ms} ms`),
      ),
    );
  }

  // 7. No 500 answers (every failure carries its status and code), and the cron ran cleanly.
  invariants.push(
    invariant(
      "no 500 Internal Server Error",
      { answers500: stats.serverErrors.length },
      stats.serverErrors.map((e) => `${e.method} ${e.path} (${e.op}): ${e.text}`),
    ),
  );
  invariants.push(invariant("the cron ran without an exception", { triggered: cron.triggered, ok: cron.ok }, cron.failed, cron.triggered > 0));

  return {
    invariants,
    workload: {
      domains: {
        binds: x.o.binds,
        bindsAnswered: x.domainOps.bind.ok,
        catalogEnables: x.domainOps.enable.ok,
        deletes: x.domainOps.delete.ok,
        keptPending: domains.filter((d) => d.plan === "pending").length,
        failures: [...x.domainOps.bind.failed, ...x.domainOps.enable.failed, ...x.domainOps.delete.failed].slice(0, MAX_LISTED),
      },
      mailboxes: {
        created: mailboxes.length,
        deleted: mailboxes.filter((m) => m.state === "deleted").length,
        createFailures: x.failures.create.length,
        deleteAnswersNot200: x.failures.delete.length,
        examples: [...x.failures.create, ...x.failures.delete].slice(0, 10),
      },
      catchAll: { ...x.catchAllOps, examples: x.failures.catchAll.slice(0, 10) },
      messages: {
        delivered: messages.length,
        catchAllProbes: probes.catchAll.length,
        deletedAddressProbes: probes.rejected.length,
        // Non-200 answers of the email handler, each retried as a sending server would.
        handlerFailures: stats.handlerFailures.slice(0, 10),
      },
      cron: { triggered: cron.triggered, ok: cron.ok },
    },
    cloudflare: {
      calls: simLog.total,
      byStatus: simLog.statuses,
      byEndpoint: simLog.byEndpoint,
      faultsInjected: x.faultsInjected,
      faultsLogged: simLog.faults,
      faultSpecs: x.faultSpecs,
      rateLimitedBySimulator: final.simStats.rateLimited,
    },
  };
}
