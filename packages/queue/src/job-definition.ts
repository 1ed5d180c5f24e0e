import type { Static, TSchema } from "@sinclair/typebox";
import { Ajv, type ValidateFunction } from "ajv";
import { invalidJobInput } from "./job-errors.js";
import type { JobHandler, JobHandlers } from "./job-handler.js";
import type { EnqueueInput, JobDocument } from "./job-types.js";
import type { QueueProducer } from "./queue-producer.js";

/** Per-type settings a definition may give; enqueue input still wins where it says otherwise. */
export interface JobLimits {
  /** Retries after the first attempt (default: the queue's, 5). */
  maxRetries?: number;
  /** Higher runs first (default 0). */
  priority?: number;
  /** A handler of this type running longer is aborted and the attempt fails (default: the worker's). */
  timeoutMs?: number;
  /**
   * A cluster-wide start rate (all worker processes together), per key of the job (default: per
   * tenant): the runner reserves a slot and starts the handler in it (a slot more than 5 s ahead defers
   * the job instead — back to pending, due then, no retry counted). Handlers whose key needs more than
   * the job (a WhatsApp phone number id) reserve from the limiter themselves.
   */
  rateLimit?: { max: number; perMs: number; key?: (job: JobDocument) => string };
}

/**
 * What producers need to enqueue a job type: its name and payload schema. It lives apart from the
 * handler so that the API can enqueue `send_email` without loading nodemailer.
 */
export interface JobContract<T extends string = string, S extends TSchema = TSchema> {
  readonly type: T;
  readonly payload: S;
  readonly limits?: JobLimits;
}

/** A job type with its handler factory: `create` runs once at worker start-up with the worker's deps. */
export interface JobDefinition<T extends string = string, S extends TSchema = TSchema, D = unknown>
  extends JobContract<T, S> {
  readonly create: (deps: D) => JobHandler<Static<S>>;
}

/** Any definition whose factory accepts `D` (the worker's dependency bag), whatever its payload. */
export interface AnyJobDefinition<D = unknown> extends JobContract {
  readonly create: (deps: D) => JobHandler<never>;
}

/** Names a job type and its payload schema (TypeBox or plain JSON schema) for producers. */
export function jobContract<const T extends string, S extends TSchema>(
  contract: JobContract<T, S>,
): JobContract<T, S> {
  return contract;
}

/** A job type, its payload schema and its handler factory, defined next to the code that owns it. */
export function defineJob<const T extends string, S extends TSchema, D = unknown>(
  definition: JobDefinition<T, S, D>,
): JobDefinition<T, S, D> {
  return definition;
}

const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false });
const compiled = new WeakMap<object, ValidateFunction>();

function validatorOf(schema: TSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** null when the payload matches the type's schema, else a message naming the field. */
export function payloadProblem(
  contract: Pick<JobContract, "type" | "payload">,
  payload: unknown,
): string | null {
  const validate = validatorOf(contract.payload);
  if (validate(payload)) return null;
  return `Invalid payload for ${contract.type}: ${ajv.errorsText(validate.errors, { dataVar: "payload" })}`;
}

/** Enqueue input for a typed job: everything but `type`, with a payload of the contract's shape. */
export type JobInput<S extends TSchema> = Omit<EnqueueInput<Static<S> & Record<string, unknown>>, "type">;

/**
 * The typed enqueue: checks the payload against the contract's schema (400 naming the field) and
 * applies its limits, so a malformed job never reaches the jobs collection from our own code.
 */
export async function enqueueJob<T extends string, S extends TSchema>(
  producer: Pick<QueueProducer, "enqueue">,
  contract: JobContract<T, S>,
  input: JobInput<S>,
): Promise<JobDocument<Static<S> & Record<string, unknown>>> {
  const problem = payloadProblem(contract, input.payload ?? {});
  if (problem) throw invalidJobInput(problem);
  return producer.enqueue({
    ...(contract.limits?.maxRetries === undefined ? {} : { maxRetries: contract.limits.maxRetries }),
    ...(contract.limits?.priority === undefined ? {} : { priority: contract.limits.priority }),
    ...input,
    type: contract.type,
  });
}

/** A job type as the worker runs it: the handler built once, the payload check compiled once. */
export interface RegisteredJob {
  readonly type: string;
  readonly handler: JobHandler;
  /** null when valid, else the dead-letter message. */
  check(payload: unknown): string | null;
  readonly limits: JobLimits;
}

export interface JobRegistry {
  /** The types this worker runs: it claims only these. */
  readonly types: readonly string[];
  get(type: string): RegisteredJob | undefined;
}

/**
 * Builds every handler once from the worker's dependencies. A type defined twice is a start-up error,
 * not a silent override.
 */
export function createJobRegistry<D>(definitions: readonly AnyJobDefinition<D>[], deps: D): JobRegistry {
  const byType = new Map<string, RegisteredJob>();
  for (const definition of definitions) {
    if (byType.has(definition.type)) throw new Error(`job type ${definition.type} is defined twice`);
    validatorOf(definition.payload);
    byType.set(definition.type, {
      type: definition.type,
      handler: definition.create(deps) as JobHandler,
      check: (payload) => payloadProblem(definition, payload),
      limits: definition.limits ?? {},
    });
  }
  return { types: [...byType.keys()], get: (type) => byType.get(type) };
}

/** Plain handlers without payload schemas (any object payload): the queue's own tests and benchmarks. */
export function handlerRegistry(handlers: JobHandlers): JobRegistry {
  const anyObject = { type: "object" } as unknown as TSchema;
  return createJobRegistry(
    Object.entries(handlers).map(([type, handler]) => ({
      type,
      payload: anyObject,
      create: () => handler as JobHandler<never>,
    })),
    undefined,
  );
}
