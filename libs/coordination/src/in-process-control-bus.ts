import type { ControlBus, ControlEvent, ControlEventHandler } from './control-events';

/**
 * One process, no Redis: the launcher (`npm start`) builds one and hands it to both apps; an app
 * started alone builds its own, which only reaches itself.
 */
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
