import { Inject, Injectable } from '@nestjs/common';
import type { ControlBus, ControlEvent } from '@switchboard/coordination';
import type { Logger } from '@switchboard/logger';
import { CONTROL_BUS, LOGGER } from './api-context';

/**
 * Tells gateways that admin data changed. Called after the database commit: the change is
 * already durable, so a bus outage is logged rather than failing the request; gateway caches
 * still pick the change up when their entries expire.
 */
@Injectable()
export class ControlEventsPublisher {
  constructor(
    @Inject(CONTROL_BUS) private readonly bus: ControlBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async publish(event: ControlEvent): Promise<void> {
    try {
      await this.bus.publish(event);
    } catch (error) {
      this.logger.warn({ err: error, event: event.type }, 'control event not delivered; gateway caches catch up on expiry');
    }
  }
}
