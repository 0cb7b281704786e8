import { setTimeout as sleep } from 'node:timers/promises';
import type { Response } from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi, type MockInstance } from 'vitest';
import { Clock } from '../../src/common/clock.js';
import { decodeJwt } from '../support/jwt.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { bearer, createUser, login, PASSWORD, type TokenPair } from '../support/users.js';

/*
 * Adversarial races: a revocation must be final when its response arrives, on every replica, even
 * while the victim keeps logging in and refreshing on another replica, and even when that replica's
 * clock disagrees with the revoking one. Two replicas share one database: the change is made on A
 * while the victim's attacker loops hammer B. Everything goes through HTTP, as an attacker's would.
 *
 * A trial: a fresh victim, ATTACKER_LOOPS loops on B recording every token pair they receive, the
 * change fired on A at a random moment or just before a whole second, the loops kept racing for
 * KEEP_RACING_MS after its response (T), then every collected token checked: on A at once, on both
 * replicas and by introspection a second after T, and (for changes that end sessions) by refresh
 * on both replicas and in the database. Whatever outlives the change is a survivor.
 */

const onServer = inject('databaseKind') === 'server';

function positiveIntegerFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** Trials per scenario, timing and clock (so 6 per scenario and timing by default); RACE_TRIALS=25 for a long hunt. */
const TRIALS = positiveIntegerFromEnv('RACE_TRIALS', 2);
/**
 * Trials raced at once (each has its own victim, so they are independent). More is faster, but both
 * replicas and the attacker share one process: under load the change reaches A's clock later than
 * it was sent, which blurs the second-boundary timing. RACE_CONCURRENCY=1 for the sharpest hunt.
 */
const TRIAL_CONCURRENCY = positiveIntegerFromEnv('RACE_CONCURRENCY', 4);
const ATTACKER_LOOPS = 4;
/** Every this many rounds a loop logs in afresh: logins race the change as well as refreshes. */
const RELOGIN_EVERY = 6;
/** Keeps refused logins (disabled account, or the account tarpit) from spinning a loop hot. */
const REFUSED_LOGIN_PAUSE_MS = 10;
/** How long the loops run before the change fires; drawn per trial. */
const HEAD_START_MS = { min: 20, max: 200 };
/** How far before a whole second the boundary timing fires: an old bug post-dated racing tokens to the next second. */
const BEFORE_BOUNDARY_MS = { min: 5, max: 30 };
/** The loops go on this long after T, so that tokens issued after the change are checked too. */
const KEEP_RACING_MS = 300;
/** The promise under test: every replica refuses within a second of the response. */
const PROPAGATION_MS = 1000;
const CHECK_CONCURRENCY = 8;
const CLOCK_SKEWS_MS = [0, 5000, -5000];

const ADMIN = ['user', 'admin'];
/** How an attempt to undo the change must fail: token refused (401), role missing (403), or the rules forbid it (409). */
const REFUSALS = [401, 403, 409];

/** Wall-clock milliseconds with sub-millisecond resolution, so "sent after T" is not a coin toss. */
const wallNow = (): number => performance.timeOrigin + performance.now();
const between = ({ min, max }: { min: number; max: number }): number => min + Math.random() * (max - min);
const sleepUntil = (moment: number): Promise<void> => sleep(Math.max(0, moment - wallNow()));

const queryRows = async <Row>(replica: TestApp, sql: string, parameters: unknown[]): Promise<Row[]> =>
  (await replica.dataSource.query(sql, parameters)) as Row[];

/**
 * Runs `work` over `items` with at most `limit` in flight. A failure is thrown once every worker has
 * finished, so no trial is left racing in the background of the next test.
 */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}

// ---------------------------------------------------------------------------------------------------------------------
// The attacker: loops on one replica that keep logging in and refreshing, recording every pair they receive.
// ---------------------------------------------------------------------------------------------------------------------

interface Victim {
  readonly id: string;
  readonly email: string;
}

type UserRow = { disabled: boolean; roles: string[] };

/** A token pair one of the attacker's requests received, and when. */
interface CollectedToken {
  readonly pair: TokenPair;
  readonly sid: string;
  readonly roles: readonly string[];
  readonly iat: number;
  readonly via: 'seed login' | 'login' | 'refresh';
  readonly loop: number;
  readonly receivedAt: number;
}

/** The victim's attempt to undo the change through the admin API, with a token it still holds. */
interface SelfPatch {
  readonly path: string;
  readonly sentAt: number;
  readonly status: number;
}

/** An answer no race should produce (a 5xx, say): not a survivor, but a failure all the same. */
interface Anomaly {
  readonly request: string;
  readonly status: number;
}

class AttackerSwarm {
  readonly tokens: CollectedToken[] = [];
  readonly selfPatches: SelfPatch[] = [];
  readonly anomalies: Anomaly[] = [];
  private stopping = false;

  constructor(
    private readonly replica: TestApp,
    private readonly victim: Victim,
    /** After every round, also PATCH its own account back to enabled admin. */
    private readonly fightsBack: boolean,
  ) {}

  /** A session opened before the race, which loop 0 then keeps refreshing: the single-session target. */
  async seed(): Promise<CollectedToken> {
    const seed = await this.login(0, 'seed login');
    if (seed === undefined) throw new Error(`the victim ${this.victim.email} could not log in before the race`);
    return seed;
  }

  /**
   * Runs the loops for as long as `work` runs, then stops them and waits for every request in flight,
   * so that the collection is complete. Loop 0 holds the seed's session and only refreshes it (until
   * it is refused); the others log in and refresh, and log in afresh every RELOGIN_EVERY rounds.
   */
  async racing<T>(seed: CollectedToken, work: () => Promise<T>): Promise<T> {
    const loops = Array.from({ length: ATTACKER_LOOPS }, (_, loop) => this.attack(loop, loop === 0 ? seed : undefined));
    try {
      return await work();
    } finally {
      this.stopping = true;
      await Promise.all(loops);
    }
  }

  latestRefreshTokenOf(sid: string): string {
    const latest = this.tokens.findLast((token) => token.sid === sid);
    if (latest === undefined) throw new Error(`no token of session ${sid} was collected`);
    return latest.pair.refresh_token;
  }

  private async attack(loop: number, start: CollectedToken | undefined): Promise<void> {
    let current = start;
    let latestAccessToken = start?.pair.access_token;
    for (let round = 1; !this.stopping; round++) {
      const logsIn = current === undefined || (loop !== 0 && round % RELOGIN_EVERY === 0);
      const next = logsIn ? await this.login(loop, 'login') : await this.refresh(loop, current!);
      if (next !== undefined) latestAccessToken = next.pair.access_token;
      // A refused refresh (the session ended) sends the loop back to logging in; a refused login
      // keeps whatever session the loop had, after a pause.
      if (logsIn && next === undefined) await sleep(REFUSED_LOGIN_PAUSE_MS);
      current = next ?? (logsIn ? current : undefined);
      if (this.fightsBack && latestAccessToken !== undefined) await this.patchSelf(latestAccessToken, round);
    }
  }

  private async login(loop: number, via: 'seed login' | 'login'): Promise<CollectedToken | undefined> {
    const res = await this.replica.http().post('/auth/login').send({ email: this.victim.email, password: PASSWORD });
    // 401 once disabled; 429 when the account tarpit counts concurrent logins as failures until they succeed.
    return this.collect(res, 'POST /auth/login', [401, 429], { via, loop });
  }

  private async refresh(loop: number, current: CollectedToken): Promise<CollectedToken | undefined> {
    const res = await this.replica.http().post('/auth/refresh').send({ refresh_token: current.pair.refresh_token });
    return this.collect(res, 'POST /auth/refresh', [401], { via: 'refresh', loop });
  }

  /** Alternates the id's letter case: the path names the same account either way, and must be judged so. */
  private async patchSelf(accessToken: string, round: number): Promise<void> {
    const path = `/admin/users/${round % 2 === 0 ? this.victim.id.toUpperCase() : this.victim.id}`;
    const sentAt = wallNow();
    const res = await this.replica
      .http()
      .patch(path)
      .set(...bearer(accessToken))
      .send({ disabled: false, roles: ADMIN });
    this.selfPatches.push({ path, sentAt, status: res.status });
    if (res.status !== 200 && !REFUSALS.includes(res.status)) this.anomalies.push({ request: `PATCH ${path}`, status: res.status });
  }

  /** Records a pair received, or an answer that is neither a pair nor an expected refusal. */
  private collect(res: Response, request: string, refusals: number[], meta: Pick<CollectedToken, 'via' | 'loop'>): CollectedToken | undefined {
    const receivedAt = wallNow();
    if (res.status !== 200) {
      if (!refusals.includes(res.status)) this.anomalies.push({ request, status: res.status });
      return undefined;
    }
    const pair = res.body as TokenPair;
    const claims = decodeJwt(pair.access_token).payload;
    const token = { ...meta, pair, sid: claims.sid as string, roles: claims.roles as string[], iat: claims.iat as number, receivedAt };
    this.tokens.push(token);
    return token;
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Scenarios, as data: the change made on replica A, and what it must have killed.
// ---------------------------------------------------------------------------------------------------------------------

/** What a change may use: replica A, the acting admin's token, and the victim's session opened before the race. */
interface ChangeContext {
  readonly replica: TestApp;
  readonly admin: TokenPair;
  readonly victim: Victim;
  readonly seed: CollectedToken;
  readonly swarm: AttackerSwarm;
}

/** The trial's facts the verdicts depend on; T is `respondedAt`. */
interface TrialFacts {
  readonly seedSid: string;
  readonly respondedAt: number;
  /** Sessions whose login had answered before the change was sent: a revoke-all must cover them. */
  readonly sessionsOpenedBefore: ReadonlySet<string>;
}

interface Scenario {
  readonly name: string;
  /** The test's name: what the scenario proves. */
  readonly title: string;
  readonly victimRoles: string[];
  /** The victim's loops also try to re-enable and re-promote the account through the admin API. */
  readonly victimFightsBack?: boolean;
  readonly change: (ctx: ChangeContext) => Promise<Response>;
  readonly changeStatus: number;
  /**
   * The sessions the change ends: all their access tokens refused, their refresh tokens refused on
   * both replicas, their rows revoked. Undefined when sessions go on (a demotion).
   */
  readonly endsSession?: (sid: string, facts: TrialFacts) => boolean;
  /** Access tokens that must be refused beyond those of ended sessions. */
  readonly killsToken?: (token: CollectedToken) => boolean;
}

const patchVictim =
  (changes: object) =>
  async ({ replica, admin, victim }: ChangeContext): Promise<Response> =>
    replica
      .http()
      .patch(`/admin/users/${victim.id}`)
      .set(...bearer(admin.access_token))
      .send(changes);

const everySession = (): boolean => true;
const seedSession = (sid: string, facts: TrialFacts): boolean => sid === facts.seedSid;

const SCENARIOS: Scenario[] = [
  {
    name: 'demotion',
    title:
      "a demoted admin's tokens, including those from logins and refreshes racing the PATCH on another replica, are refused by both replicas within a second",
    victimRoles: ADMIN,
    change: patchVictim({ roles: ['user'] }),
    changeStatus: 200,
    // The sessions go on, and tokens with the new roles may live.
    killsToken: (token) => token.roles.includes('admin'),
  },
  {
    name: 'disable',
    title:
      "a disabled user's sessions and tokens, including those from logins and refreshes racing the PATCH on another replica, are dead on both replicas within a second",
    victimRoles: ['user'],
    change: patchVictim({ disabled: true }),
    changeStatus: 200,
    endsSession: everySession,
  },
  {
    name: 'self-re-enable',
    title: 'an admin being disabled and demoted cannot re-enable or re-promote itself from another replica with tokens obtained during the race',
    victimRoles: ADMIN,
    victimFightsBack: true,
    change: patchVictim({ disabled: true, roles: ['user'] }),
    changeStatus: 200,
    endsSession: everySession,
  },
  {
    name: 'revoke-all',
    title:
      "revoking all of a user's sessions on one replica ends every session opened before the request, despite logins and refreshes racing on another",
    victimRoles: ['user'],
    change: async ({ replica, admin, victim }) =>
      replica
        .http()
        .delete(`/admin/users/${victim.id}/sessions`)
        .set(...bearer(admin.access_token)),
    changeStatus: 204,
    // A login overlapping the request may be ordered after it, so its session may rightly live.
    endsSession: (sid, facts) => facts.sessionsOpenedBefore.has(sid),
  },
  {
    name: 'revoke-session',
    title: 'a session an admin revokes on one replica stays dead although its holder keeps refreshing it on another',
    victimRoles: ['user'],
    change: async ({ replica, admin, seed }) =>
      replica
        .http()
        .delete(`/admin/sessions/${seed.sid}`)
        .set(...bearer(admin.access_token)),
    changeStatus: 204,
    endsSession: seedSession,
  },
  {
    name: 'rfc7009-access-token',
    title: 'revoking an access token (RFC 7009) on one replica ends its whole session although it keeps refreshing on another',
    victimRoles: ['user'],
    change: async ({ replica, seed }) => replica.http().post('/auth/revoke').send({ token: seed.pair.access_token }),
    changeStatus: 200,
    endsSession: seedSession,
  },
  {
    name: 'logout',
    title: 'logging out on one replica ends the session although a copy of it keeps refreshing on another',
    victimRoles: ['user'],
    change: async ({ replica, seed, swarm }) =>
      replica
        .http()
        .post('/auth/logout')
        .send({ refresh_token: swarm.latestRefreshTokenOf(seed.sid) }),
    changeStatus: 204,
    endsSession: seedSession,
  },
];

/** When the change fires, given the earliest moment the loops will have had their head start. */
interface Timing {
  readonly name: string;
  readonly fireAt: (earliest: number) => number;
}

const TIMINGS: Timing[] = [
  { name: 'at a random moment', fireAt: (earliest) => earliest },
  {
    name: 'just before a whole second',
    fireAt: (earliest) => Math.ceil((earliest + BEFORE_BOUNDARY_MS.max) / 1000) * 1000 - between(BEFORE_BOUNDARY_MS),
  },
];

// ---------------------------------------------------------------------------------------------------------------------
// One trial: race, then count what outlived the change.
// ---------------------------------------------------------------------------------------------------------------------

interface Finding {
  /** What survived: one token, session or request, however many checks let it through. */
  readonly subject: string;
  /** The check that let it through. */
  readonly check: string;
  readonly detail: string;
}

/** What outlived the change in one trial. */
class Survivors {
  readonly findings: Finding[] = [];

  constructor(private readonly respondedAt: number) {}

  token(check: string, token: CollectedToken): void {
    const when = (token.receivedAt - this.respondedAt).toFixed(0);
    const claims = `sid ${token.sid.slice(0, 8)}, roles ${token.roles.join('+')}, iat ${token.iat}`;
    this.findings.push({
      subject: token.pair.access_token,
      check,
      detail: `${token.via} by loop ${token.loop} (${claims}, received ${when} ms from T)`,
    });
  }

  other(subject: string, check: string, detail: string): void {
    this.findings.push({ subject, check, detail });
  }
}

interface TrialReport {
  readonly timing: Timing;
  readonly tokensChecked: number;
  readonly findings: Finding[];
  readonly anomalies: Anomaly[];
}

/** The two replicas and the admins acting on them. */
interface Rig {
  readonly a: TestApp;
  readonly b: TestApp;
  /** Makes the changes on A. */
  readonly admin: TokenPair;
  /** Introspects: an admin no scenario touches. */
  readonly observer: TokenPair;
}

/** A trial after its race: everything the checks need. */
interface RacedTrial {
  readonly rig: Rig;
  readonly scenario: Scenario;
  readonly victim: Victim;
  readonly swarm: AttackerSwarm;
  readonly facts: TrialFacts;
  readonly survivors: Survivors;
}

const meStatus = async (replica: TestApp, token: CollectedToken): Promise<number> =>
  (
    await replica
      .http()
      .get('/auth/me')
      .set(...bearer(token.pair.access_token))
  ).status;

async function introspectionSaysActive({ a, observer }: Rig, token: CollectedToken): Promise<boolean> {
  const res = await a
    .http()
    .post('/auth/introspect')
    .set(...bearer(observer.access_token))
    .send({ token: token.pair.access_token });
  if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${JSON.stringify(res.body)}`);
  return (res.body as { active: boolean }).active;
}

/** The access tokens among `tokens` that `replica` still accepts. */
async function acceptedBy(replica: TestApp, tokens: readonly CollectedToken[]): Promise<CollectedToken[]> {
  const accepting: CollectedToken[] = [];
  await forEachLimited(tokens, CHECK_CONCURRENCY, async (token) => {
    if ((await meStatus(replica, token)) === 200) accepting.push(token);
  });
  return accepting;
}

const endsSession = (scenario: Scenario, facts: TrialFacts, sid: string): boolean => scenario.endsSession?.(sid, facts) ?? false;

const mustDie = (scenario: Scenario, facts: TrialFacts, token: CollectedToken): boolean =>
  endsSession(scenario, facts, token.sid) || (scenario.killsToken?.(token) ?? false);

let victimCount = 0;

async function runTrial(rig: Rig, scenario: Scenario, timing: Timing): Promise<TrialReport> {
  const email = `${scenario.name}.${++victimCount}@example.com`;
  const victim = { id: await createUser(rig.a, email, scenario.victimRoles), email };
  const swarm = new AttackerSwarm(rig.b, victim, scenario.victimFightsBack === true);
  const seed = await swarm.seed();

  const headStart = between(HEAD_START_MS);
  const fireAt = timing.fireAt(wallNow() + headStart);
  await sleepUntil(fireAt - headStart);
  const { facts, acceptedByAAtOnce } = await swarm.racing(seed, async () => {
    await sleepUntil(fireAt);
    const sentAt = wallNow();
    const response = await scenario.change({ replica: rig.a, admin: rig.admin, victim, seed, swarm });
    const respondedAt = wallNow();
    if (response.status !== scenario.changeStatus) {
      throw new Error(`${scenario.name}: the change answered ${response.status} ${JSON.stringify(response.body)}`);
    }
    const facts: TrialFacts = {
      seedSid: seed.sid,
      respondedAt,
      sessionsOpenedBefore: new Set(swarm.tokens.filter((token) => token.receivedAt < sentAt).map((token) => token.sid)),
    };
    // 1. The revoking replica refuses at once: checked right after T, while the race still runs.
    const acceptedByAAtOnce = acceptedBy(
      rig.a,
      swarm.tokens.filter((token) => mustDie(scenario, facts, token)),
    );
    await sleepUntil(respondedAt + KEEP_RACING_MS);
    return { facts, acceptedByAAtOnce };
  });

  const trial: RacedTrial = { rig, scenario, victim, swarm, facts, survivors: new Survivors(facts.respondedAt) };
  for (const token of await acceptedByAAtOnce) trial.survivors.token('A right after T', token);
  await sleepUntil(facts.respondedAt + PROPAGATION_MS);
  await checkAccessTokens(trial);
  if (scenario.endsSession !== undefined) await checkEndedSessions(trial);
  if (scenario.victimFightsBack === true) await checkCounterAttack(trial);
  return { timing, tokensChecked: swarm.tokens.length, findings: trial.survivors.findings, anomalies: swarm.anomalies };
}

/**
 * 2. A second after T, both replicas refuse every token that must be dead, those received after T
 * included, and introspection agrees with the guard on every token.
 */
async function checkAccessTokens({ rig, scenario, swarm, facts, survivors }: RacedTrial): Promise<void> {
  await forEachLimited(swarm.tokens, CHECK_CONCURRENCY, async (token) => {
    const [onA, onB, active] = await Promise.all([meStatus(rig.a, token), meStatus(rig.b, token), introspectionSaysActive(rig, token)]);
    if (mustDie(scenario, facts, token)) {
      if (onA === 200) survivors.token('A at T+1s', token);
      if (onB === 200) survivors.token('B at T+1s', token);
      if (active) survivors.token('introspection', token);
    }
    if (active !== (onA === 200)) survivors.token(`introspection (active: ${active}) disagrees with A's guard (${onA})`, token);
  });
}

/**
 * 3. Ended sessions are over in the database and for refresh on both replicas. The rows are read
 * first, and each session's refresh tokens are presented one at a time, newest first: presenting a
 * spent one of a session that is wrongly live ends it as reuse, which would hide its live token.
 */
async function checkEndedSessions({ rig, scenario, victim, swarm, facts, survivors }: RacedTrial): Promise<void> {
  const ended = (sid: string): boolean => endsSession(scenario, facts, sid);
  const live = await queryRows<{ id: string }>(rig.a, 'SELECT id FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [victim.id]);
  for (const { id } of live.filter((row) => ended(row.id))) {
    survivors.other(`session ${id}`, 'database', `session ${id.slice(0, 8)} has no revoked_at`);
  }

  const tokensBySession = new Map<string, CollectedToken[]>();
  for (const token of swarm.tokens.filter((token) => ended(token.sid))) {
    tokensBySession.set(token.sid, [...(tokensBySession.get(token.sid) ?? []), token]);
  }
  await forEachLimited([...tokensBySession.values()], CHECK_CONCURRENCY, async (tokens) => {
    for (const token of tokens.toReversed()) {
      for (const [name, replica] of [
        ['B', rig.b],
        ['A', rig.a],
      ] as const) {
        const res = await replica.http().post('/auth/refresh').send({ refresh_token: token.pair.refresh_token });
        if (res.status === 200) survivors.token(`refresh on ${name}`, token);
      }
    }
  });
}

/** 4. The victim's counter-attack left nothing behind, and failed whenever it was sent after T. */
async function checkCounterAttack({ rig, victim, swarm, facts, survivors }: RacedTrial): Promise<void> {
  const [row] = await queryRows<UserRow>(rig.a, 'SELECT disabled, roles FROM users WHERE id = $1', [victim.id]);
  if (!row!.disabled || row!.roles.includes('admin')) {
    survivors.other(`user ${victim.id}`, 'database', `the victim ends with disabled=${row!.disabled}, roles ${row!.roles.join('+')}`);
  }
  for (const patch of swarm.selfPatches.filter((patch) => patch.sentAt > facts.respondedAt && !REFUSALS.includes(patch.status))) {
    const when = (patch.sentAt - facts.respondedAt).toFixed(0);
    survivors.other(`${patch.path} at ${patch.sentAt}`, 'self PATCH after T', `PATCH ${patch.path} sent ${when} ms after T answered ${patch.status}`);
  }
}

const survivorCount = (findings: readonly Finding[]): number => new Set(findings.map((finding) => finding.subject)).size;

/**
 * One line per scenario and clock: trials, tokens checked, survivors (distinct tokens, sessions or
 * requests), the trials they came from per timing, and how many each check let through.
 */
function summarize(label: string, reports: readonly TrialReport[]): void {
  const findings = reports.flatMap((report) => report.findings);
  const perCheck = new Map<string, number>();
  for (const { check } of findings) perCheck.set(check, (perCheck.get(check) ?? 0) + 1);
  const hitTrials = TIMINGS.map((timing) => {
    const ofTiming = reports.filter((report) => report.timing === timing);
    return `${ofTiming.filter((report) => report.findings.length > 0).length}/${ofTiming.length} ${timing.name}`;
  });
  const anomalies = reports.flatMap((report) => report.anomalies).length;
  console.log(
    `[races] ${label}: ${reports.length} trials, ${reports.reduce((sum, report) => sum + report.tokensChecked, 0)} tokens checked, ` +
      `${survivorCount(findings)} survivors` +
      (findings.length > 0
        ? ` from trials ${hitTrials.join(', ')}; per check ${[...perCheck].map(([check, count]) => `${check}: ${count}`).join(', ')}`
        : '') +
      (anomalies > 0 ? `; ${anomalies} unexpected answers` : ''),
  );
}

const firstFew = (lines: string[]): string =>
  lines
    .slice(0, 8)
    .map((line) => `\n  - ${line}`)
    .join('');

// ---------------------------------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------------------------------

describe.skipIf(!onServer)(
  'revocation races across two replicas (needs TEST_DATABASE_URL: NOTIFY does not cross connections on the embedded database)',
  () => {
    let rig: Rig;

    beforeAll(async () => {
      await resetDatabase();
      // Pools sized for several trials at once, each with its attacker loops.
      const a = await startTestApp({ DATABASE_POOL_SIZE: '12' });
      // No periodic resync on B within the run: what B knows must come from LISTEN/NOTIFY, and a
      // missed notification cannot be hidden by a reload.
      const b = await startTestApp({ DATABASE_POOL_SIZE: '12', REVOCATION_RESYNC_INTERVAL: '3600' });
      await createUser(a, 'acting-admin@example.com', ADMIN);
      await createUser(a, 'observer-admin@example.com', ADMIN);
      rig = { a, b, admin: await login(a, 'acting-admin@example.com'), observer: await login(a, 'observer-admin@example.com') };
    });
    afterAll(async () => {
      await Promise.all([rig?.a.close(), rig?.b.close()]);
    });

    const plan = TIMINGS.flatMap((timing) => Array.from({ length: TRIALS }, () => timing));
    // A batch of trials takes 2-3 s on a busy machine; generous, so a slow CI runner does not fail on time.
    const timeout = 60_000 + Math.ceil(plan.length / TRIAL_CONCURRENCY) * 15_000;

    for (const skewMs of CLOCK_SKEWS_MS) {
      const clock = skewMs === 0 ? 'in step' : `${skewMs > 0 ? '+' : '-'}${Math.abs(skewMs) / 1000} s`;

      describe(`with replica B's clock ${clock}`, () => {
        let skew: MockInstance<() => Date> | undefined;
        // Clock is the service's only time source: this skews everything B dates and checks.
        beforeAll(() => {
          if (skewMs !== 0) skew = vi.spyOn(rig.b.app.get(Clock), 'now').mockImplementation(() => new Date(Date.now() + skewMs));
        });
        afterAll(() => skew?.mockRestore());

        for (const scenario of SCENARIOS) {
          it(scenario.title, { timeout }, async () => {
            const reports: TrialReport[] = [];
            await forEachLimited(plan, TRIAL_CONCURRENCY, async (timing) => {
              reports.push(await runTrial(rig, scenario, timing));
            });

            summarize(`${scenario.name}, B's clock ${clock}`, reports);
            const findings = reports.flatMap((report) => report.findings);
            const anomalies = reports.flatMap((report) => report.anomalies);
            expect(survivorCount(findings), `survivors:${firstFew(findings.map((finding) => `${finding.check}: ${finding.detail}`))}`).toBe(0);
            expect(anomalies.length, `unexpected answers:${firstFew(anomalies.map((anomaly) => `${anomaly.request} -> ${anomaly.status}`))}`).toBe(0);
          });
        }
      });
    }
  },
);

/** Runs on the embedded database too: no second replica needed. */
describe('an admin is recognised by its own id in any letter case', () => {
  let t: TestApp;
  let adminId: string;
  let admin: TokenPair;

  beforeAll(async () => {
    await resetDatabase();
    t = await startTestApp();
  });
  afterAll(() => t?.close());
  beforeEach(async () => {
    await t.dataSource.query('TRUNCATE users CASCADE');
    adminId = await createUser(t, 'only-admin@example.com', ADMIN);
    admin = await login(t, 'only-admin@example.com');
  });

  const patchOwnAccountUpperCased = (changes: object) =>
    t
      .http()
      .patch(`/admin/users/${adminId.toUpperCase()}`)
      .set(...bearer(admin.access_token))
      .send(changes);
  const ownRow = async (): Promise<UserRow> => (await queryRows<UserRow>(t, 'SELECT disabled, roles FROM users WHERE id = $1', [adminId]))[0]!;

  it('an admin cannot disable its own account by upper-casing its id in the path', async () => {
    // A second admin, so that the last-admin rule is not what refuses it.
    await createUser(t, 'other-admin@example.com', ADMIN);

    expect((await patchOwnAccountUpperCased({ disabled: true })).status).toBe(409);
    expect((await ownRow()).disabled).toBe(false);
  });

  it('the only admin cannot demote itself by upper-casing its id in the path (the last-admin rule)', async () => {
    expect((await patchOwnAccountUpperCased({ roles: ['user'] })).status).toBe(409);
    expect((await ownRow()).roles).toContain('admin');
  });
});
