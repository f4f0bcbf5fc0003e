import type { ControlBus, ControlEvent, ControlEventHandler } from './control-events';

/** One process, no Redis: API and gateway share this bus when they run together (`npm start`). */
export class InProcessControlBus implements ControlBus {
  private readonly handlers = new Set<ControlEventHandler>();

  async publish(event: ControlEvent): Promise<void> {
    for (const handler of [...this.handlers]) {
      // A handler's failure is its own; the publisher and the other handlers carry on.
      try {
        handler(event);
      } catch {
        /* handlers log their own errors */
      }
    }
  }

  subscribe(handler: ControlEventHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}

let shared: InProcessControlBus | undefined;

/** The process-wide in-process bus, so the API and gateway modules loaded together see one bus. */
export function sharedInProcessControlBus(): InProcessControlBus {
  shared ??= new InProcessControlBus();
  return shared;
}
