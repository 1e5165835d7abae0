import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { apiErrorMessage, apiStatus } from "../../kube/client.js";

export interface LeaderElectionOptions {
  coordination: k8s.CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  /** How long a lease is valid without renewal (client-go: 15 s). */
  leaseDurationSeconds?: number;
  /** How often the holder renews and candidates retry (default: a fifth of the lease, at most 2 s). */
  retryPeriodMs?: number;
  /**
   * The wall clock, in ms since the epoch, for the times this replica WRITES into the Lease (acquireTime,
   * renewTime). Expiry never reads it: it is timed on the local monotonic clock (tests inject an offset here).
   */
  now?: () => number;
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/**
 * The apiserver's MicroTime wants six fractional digits; client-node serialises Dates with three,
 * which the apiserver rejects. A Date that prints itself the way the apiserver parses it.
 */
class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
  }
}

/**
 * client-node does not know the V1MicroTime type when deserialising, so a Lease read from the
 * apiserver carries its times as strings (already in MicroTime format), not Dates. Either way,
 * this yields something that serialises as a MicroTime.
 */
const micro = (d: Date | string | undefined): MicroTime | undefined => {
  if (d === undefined || d === null) return undefined;
  const ms = new Date(d).getTime();
  return Number.isNaN(ms) ? undefined : new MicroTime(ms);
};

/** The local monotonic clock, in ms: immune to the wall clock being set or skewed. */
const monotonic = (): number => performance.now();

/** Everything a write to the Lease changes: a different value means the holder (or someone) wrote it. */
const recordOf = (lease: k8s.V1Lease): string => {
  const s = lease.spec ?? {};
  return JSON.stringify([lease.metadata?.resourceVersion, s.holderIdentity, String(s.renewTime), String(s.acquireTime), s.leaseTransitions, s.leaseDurationSeconds]);
};

/** Rejects when a call has not settled in time, so a hung connection cannot freeze the election. */
function withTimeout<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Lease-based leader election (coordination.k8s.io/v1), the protocol client-go uses:
 * acquire a free or expired lease with an optimistic-concurrency update, renew it while leading,
 * step down when no renewal succeeded within the renew deadline (two thirds of the lease), so the
 * old leader has stopped before any candidate can consider the lease expired.
 *
 * Expiry is judged as client-go judges it: by how long ago THIS replica last saw the Lease change,
 * on its own monotonic clock. The renewTime in the Lease was written by another machine's clock and is
 * never compared with ours, so no clock offset (a fast replica, a renewTime far in the future) moves a
 * takeover earlier or later: a dead leader's lease is taken within its duration plus one retry period.
 */
export class LeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  /** Monotonic time of the start of the last successful write by this replica. */
  private lastRenew = 0;
  /** The Lease as last seen (see recordOf) and when, on the monotonic clock. */
  private observed: { record: string; at: number } | undefined;
  private stopped = false;
  private ticking: Promise<void> | undefined;

  constructor(private readonly o: LeaderElectionOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.ticking = this.tick();
  }

  /** Stops campaigning; a leader releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const { coordination, name, namespace, identity } = this.o;
      const lease = await withTimeout(coordination.readNamespacedLease({ name, namespace }), this.callTimeoutMs, "reading the lease");
      if (lease.spec?.holderIdentity === identity) {
        // What client-go's ReleaseOnCancel writes: no holder, a 1 s lease that is already expired.
        const now = new MicroTime(this.wallClock());
        lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, acquireTime: now, renewTime: now };
        await withTimeout(coordination.replaceNamespacedLease({ name, namespace, body: lease }), this.callTimeoutMs, "releasing the lease");
        this.o.log.info({ lease: `${namespace}/${name}` }, "released the leader lease");
      }
    } catch (error) {
      this.o.log.warn({ err: apiErrorMessage(error) }, "could not release the leader lease");
    }
  }

  private wallClock(): number {
    return (this.o.now ?? Date.now)();
  }

  private get durationMs(): number {
    return (this.o.leaseDurationSeconds ?? 15) * 1000;
  }

  /** client-go's renewDeadline: a leader that could not renew for this long stops leading. */
  private get renewDeadlineMs(): number {
    return (this.durationMs * 2) / 3;
  }

  private get retryMs(): number {
    return this.o.retryPeriodMs ?? Math.max(200, Math.min(2000, this.durationMs / 5));
  }

  private get callTimeoutMs(): number {
    return Math.max(1000, Math.min(5000, this.renewDeadlineMs / 2));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (error) {
      const conflict = apiStatus(error) === 409;
      // A 409 is another candidate winning the same round: expected, not worth a warning.
      this.o.log[conflict ? "debug" : "warn"]({ err: apiErrorMessage(error), leading: this.leading }, "leader election: lease update failed");
    }
    if (this.leading && monotonic() - this.lastRenew > this.renewDeadlineMs) {
      this.o.log.warn({ lastRenewMsAgo: Math.round(monotonic() - this.lastRenew) }, "could not renew the leader lease in time");
      this.setLeading(false);
    }
    if (!this.stopped) {
      this.timer = setTimeout(() => {
        this.ticking = this.tick();
      }, this.retryMs);
      this.timer.unref();
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { coordination, name, namespace, identity } = this.o;
    const started = monotonic();
    const now = new MicroTime(this.wallClock());
    let lease: k8s.V1Lease;
    try {
      lease = await withTimeout(coordination.readNamespacedLease({ name, namespace }), this.callTimeoutMs, "reading the lease");
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
      const created = await withTimeout(
        coordination.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds: this.durationMs / 1000, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        }),
        this.callTimeoutMs,
        "creating the lease",
      );
      this.renewed(created, started);
      return;
    }
    const record = recordOf(lease);
    // The lease is timed from when it last changed under our eyes (the request's start: never later than the change).
    if (this.observed?.record !== record) this.observed = { record, at: started };
    const spec = lease.spec ?? {};
    const heldByOther = Boolean(spec.holderIdentity) && spec.holderIdentity !== identity;
    const expired = started - this.observed.at > (spec.leaseDurationSeconds ?? 15) * 1000;
    if (heldByOther && !expired) {
      if (this.leading) this.setLeading(false);
      return;
    }
    const takingOver = spec.holderIdentity !== identity;
    lease.spec = {
      ...spec,
      acquireTime: takingOver ? now : (micro(spec.acquireTime) ?? now),
      holderIdentity: identity,
      leaseDurationSeconds: this.durationMs / 1000,
      renewTime: now,
      leaseTransitions: takingOver ? (spec.leaseTransitions ?? 0) + 1 : (spec.leaseTransitions ?? 0),
    };
    // resourceVersion in the body makes this a compare-and-swap: a 409 means someone else won.
    const written = await withTimeout(coordination.replaceNamespacedLease({ name, namespace, body: lease }), this.callTimeoutMs, "renewing the lease");
    this.renewed(written, started);
  }

  /** `at` is when the attempt started: the lease is valid from before the moment we wrote it. */
  private renewed(written: k8s.V1Lease, at: number): void {
    this.lastRenew = at;
    this.observed = { record: recordOf(written), at };
    if (!this.stopped) this.setLeading(true);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.o.log.info({ identity: this.o.identity, lease: `${this.o.namespace}/${this.o.name}` }, leading ? "became leader" : "stopped leading");
    if (leading) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }
}
