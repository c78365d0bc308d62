import type { NodeAPI, NodeMessage } from 'node-red';

/**
 * Which messages a person started. The editor's inject button hands its inject node a message through the
 * runtime's `receive`, which gives it its `_msgid` before the node sees it; the node's own timers (Repeat, a cron
 * time, "Inject once after") hand it an empty message, whose id comes only when it is sent. The hook remembers the
 * ids of the former; the id travels with the message through the flow (a node that builds a new message gives it
 * a new id, and what it sends counts as unattended, the safe side). Nothing else tells Node-RED's messages apart,
 * so a message from anywhere else (a stream node, an HTTP request, a dashboard button, a link) is unattended.
 */
const HOOK = 'onReceive.bmwCardataByHand';
/** How long a message started by hand counts as such: a flow that waits longer than this runs unattended. */
const KEEP_MS = 60 * 60_000;
const MAX_KEPT = 1000;

/** Message id -> when its button was pressed. Kept in insertion order, so the oldest go first. */
const pressed = new Map<string, number>();

interface ReceiveEvent {
  msg?: { _msgid?: unknown };
  destination?: { node?: { type?: string } };
}

function forget(now: number): void {
  for (const [id, at] of pressed) {
    if (now - at < KEEP_MS && pressed.size <= MAX_KEPT) break;
    pressed.delete(id);
  }
}

/** Watches the inject nodes of this runtime for button presses (once per runtime; loading again replaces the hook). */
export function watchButtons(RED: NodeAPI): void {
  const hooks = (RED as unknown as { hooks?: { add(name: string, fn: (e: ReceiveEvent) => void): void; remove(name: string): void } }).hooks;
  if (!hooks) return;
  hooks.remove(HOOK);
  hooks.add(HOOK, (event: ReceiveEvent) => {
    const id = event.msg?._msgid;
    if (event.destination?.node?.type !== 'inject' || typeof id !== 'string' || !id) return;
    const now = Date.now();
    pressed.set(id, now);
    forget(now);
  });
}

/** Whether the message comes from a press of an inject button in the editor (within the last hour). */
export function startedByHand(msg: NodeMessage): boolean {
  const id = (msg as { _msgid?: unknown })._msgid;
  if (typeof id !== 'string') return false;
  const at = pressed.get(id);
  return at !== undefined && Date.now() - at < KEEP_MS;
}
