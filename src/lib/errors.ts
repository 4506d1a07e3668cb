import type { z } from "zod";

/**
 * The one error type the router turns into the `{error, details}` envelope.
 * Anything else that escapes a handler is a real fault: logged, answered with a generic 500.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: unknown = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** An actionable failure: stable machine code plus a one-line fix the web page shows. */
export function actionable(
  status: number,
  message: string,
  code: string,
  hint: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): ApiError {
  return new ApiError(status, message, { code, hint, ...extra }, headers);
}

/** zod issues → `{formErrors, fieldErrors}` exactly like the reference (paths joined with "."). */
export function flattenZodError(error: z.ZodError): {
  formErrors: string[];
  fieldErrors: Record<string, string[]>;
} {
  const formErrors: string[] = [];
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    if (issue.path.length === 0) {
      formErrors.push(issue.message);
      continue;
    }
    const key = issue.path.map(String).join(".");
    (fieldErrors[key] ??= []).push(issue.message);
  }
  return { formErrors, fieldErrors };
}

export function invalidRequest(error: z.ZodError): ApiError {
  return new ApiError(400, "Invalid request", flattenZodError(error));
}

export const notFound = (message: string, details: unknown = null) => new ApiError(404, message, details);
export const forbidden = (message = "Forbidden") => new ApiError(403, message);
export const conflict = (message: string, details: unknown = null) => new ApiError(409, message, details);
