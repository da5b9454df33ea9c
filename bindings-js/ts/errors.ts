// QuiverError and its codes: every failure of the package. Its own file so that the modules core.ts uses (sync.ts)
// can throw it without importing core.ts back.

/** Stable error codes, the engine's StatusCode names (their index is the engine's number). */
export const ErrorCodes = [
  'Ok',
  'InvalidArgument',
  'NotFound',
  'AlreadyExists',
  'Corruption',
  'IOError',
  'NotSupported',
  'FailedPrecondition',
  'Busy',
  'ResourceExhausted',
  'Internal',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

/** Every failure of the package: `.code` names the kind (see ErrorCodes), `.status` is the engine's number. */
export class QuiverError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode | number, message: string) {
    const name: ErrorCode = typeof code === 'number' ? (ErrorCodes[code] ?? 'Internal') : code;
    super(message);
    this.name = 'QuiverError';
    this.code = name;
    this.status = ErrorCodes.indexOf(name);
  }
}
