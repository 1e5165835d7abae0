import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { apiErrorMessage, apiStatus } from "../kube/client.js";

export interface LeaderElectionOptions {
  coordination: k8s.CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  /** How long a lease is valid without renewal. */
  leaseDurationSeconds?: number;
  /** How often the holder renews and candidates retry. */
  retryPeriodMs?: number;
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

/** Lease times come back from a read as strings (client-node does not parse MicroTime). */
const micro = (d: Date | string | undefined): MicroTime | undefined => (d ? new MicroTime(new Date(d).getTime()) : undefined);

/**
 * Lease-based leader election (coordination.k8s.io/v1), the protocol client-go uses:
 * acquire a free or expired lease with an optimistic-concurrency update, renew it while leading,
 * step down as soon as a renewal fails past the lease duration.
 */
export class LeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;

  constructor(private readonly o: LeaderElectionOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stops campaigning; a leader releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.o.coordination.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace });
      if (lease.spec?.holderIdentity === this.o.identity) {
        lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, acquireTime: micro(lease.spec.acquireTime), renewTime: micro(lease.spec.renewTime) };
        await this.o.coordination.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body: lease });
      }
    } catch (error) {
      this.o.log.warn({ err: apiErrorMessage(error) }, "could not release the leader lease");
    }
  }

  private get durationMs(): number {
    return (this.o.leaseDurationSeconds ?? 15) * 1000;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.tryAcquireOrRenew();
    } catch (error) {
      this.o.log.warn({ err: apiErrorMessage(error) }, "leader election: lease update failed");
    }
    if (this.leading && Date.now() - this.lastRenew > this.durationMs) this.setLeading(false);
    if (!this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.o.retryPeriodMs ?? 2000);
      this.timer.unref();
    }
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { coordination, name, namespace, identity } = this.o;
    const now = new MicroTime();
    let lease: k8s.V1Lease;
    try {
      lease = await coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
      await coordination.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: this.durationMs / 1000, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        },
      });
      this.renewed();
      return;
    }
    const spec = lease.spec ?? {};
    const held = spec.holderIdentity && spec.holderIdentity !== identity;
    const renewedAt = spec.renewTime ? new Date(spec.renewTime).getTime() : 0; // a string at runtime, see micro()
    const expired = renewedAt + (spec.leaseDurationSeconds ?? 15) * 1000 < now.getTime();
    if (held && !expired) {
      if (this.leading) this.setLeading(false);
      return;
    }
    const takingOver = spec.holderIdentity !== identity;
    lease.spec = {
      ...spec,
      acquireTime: micro(spec.acquireTime),
      holderIdentity: identity,
      leaseDurationSeconds: this.durationMs / 1000,
      renewTime: now,
      ...(takingOver ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    // resourceVersion in the body makes this a compare-and-swap: a 409 means someone else won.
    await coordination.replaceNamespacedLease({ name, namespace, body: lease });
    this.renewed();
  }

  private renewed(): void {
    this.lastRenew = Date.now();
    this.setLeading(true);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.o.log.info({ identity: this.o.identity, lease: `${this.o.namespace}/${this.o.name}` }, leading ? "became leader" : "stopped leading");
    if (leading) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }
}
