import type { MqttConnection } from './types';
import type { Subscriber } from './subscriber';

/** The topics the subscribers need: `<gcid>/+` if anyone wants every VIN, else one topic per VIN. */
export function desiredTopics(gcid: string, subs: Iterable<Subscriber>): Set<string> {
  const out = new Set<string>();
  for (const s of subs) {
    if (s.filter.allVins) return new Set([`${gcid}/+`]);
    for (const v of s.filter.vins) out.add(`${gcid}/${v}`);
  }
  return out;
}

/** What a sync needs to know of the connection while it runs. */
export interface SyncHooks {
  /** False once the client was replaced: what it answers no longer counts. */
  current(): boolean;
  /** The broker refused a subscription. */
  refused(): void;
  /** A sync was asked for while this one ran: run it now. */
  again(): void;
}

/** The broker subscriptions of one client, kept in line with what the subscribers need as they come and go. */
export class TopicSync {
  /** The topics the broker accepted on the current client. */
  topics = new Set<string>();
  private syncing = false;
  private resyncNeeded = false;

  /** A new client, or none: no subscriptions. */
  reset(): void {
    this.topics = new Set();
  }

  /**
   * Subscribes what is `desired` and missing, then unsubscribes what is no longer desired; one sync at a time,
   * and one more after it when another was asked for meanwhile.
   */
  sync(client: MqttConnection, desired: Set<string>, hooks: SyncHooks): void {
    if (this.syncing) {
      this.resyncNeeded = true;
      return;
    }
    const add = [...desired].filter((t) => !this.topics.has(t));
    const drop = [...this.topics].filter((t) => !desired.has(t));
    if (add.length === 0 && drop.length === 0) return;
    this.syncing = true;
    const finish = (): void => {
      this.syncing = false;
      if (this.resyncNeeded) {
        this.resyncNeeded = false;
        hooks.again();
      }
    };
    const unsubscribe = (): void => {
      if (drop.length === 0 || !hooks.current()) return finish();
      for (const t of drop) this.topics.delete(t);
      void client.unsubscribe(drop).then(finish, finish);
    };
    if (add.length === 0) return unsubscribe();
    void client.subscribe(add).then(({ refused, error }) => {
      if (!hooks.current()) return finish();
      if (refused) {
        this.syncing = false;
        hooks.refused();
        return;
      }
      if (!error) for (const t of add) this.topics.add(t);
      unsubscribe();
    });
  }
}
