import type { ExecutionContext } from '@nestjs/common';

type Handler = ReturnType<ExecutionContext['getHandler']>;
type Controller = ReturnType<ExecutionContext['getClass']>;

/**
 * A route's decorator metadata is fixed once the application has booted, so a guard reads it once
 * per route (controller class and handler) instead of walking reflect-metadata on every request.
 */
export function oncePerRoute<T>(read: (handler: Handler, controller: Controller) => T): (context: ExecutionContext) => T {
  const byController = new WeakMap<Controller, WeakMap<Handler, { value: T }>>();
  return (context) => {
    const controller = context.getClass();
    const handler = context.getHandler();
    let byHandler = byController.get(controller);
    if (byHandler === undefined) byController.set(controller, (byHandler = new WeakMap()));
    let entry = byHandler.get(handler);
    if (entry === undefined) byHandler.set(handler, (entry = { value: read(handler, controller) }));
    return entry.value;
  };
}
