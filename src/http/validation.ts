import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { Type } from '@sinclair/typebox';

/**
 * One text field of a form: a single string (a repeated field arrives as an array and is refused),
 * without control characters (PostgreSQL refuses NUL; CR and LF have no place in an address or a
 * code), at most `maxLength` characters.
 */
export const formField = (maxLength: number) => Type.String({ maxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$' });

/**
 * Turns JSON-schema failures into Graph-style messages that name the property the caller sent.
 */
export function formatValidationErrors(errors: FastifySchemaValidationError[], dataVar: string, readOnly: readonly string[] = []): Error {
  const e = errors[0]!;
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : dataVar;
  const params = e.params as Record<string, unknown>;
  let message: string;
  if (e.keyword === 'additionalProperties') {
    const prop = String(params.additionalProperty);
    const owner = e.instancePath ? `'${where}'` : 'the resource';
    message = readOnly.includes(prop)
      ? `Property '${prop}' is read-only and cannot be set.`
      : `Property '${prop}' does not exist on ${owner}; check its name and casing.`;
  } else if (e.keyword === 'required') {
    message = `Property '${String(params.missingProperty)}' is required${e.instancePath ? ` in '${where}'` : ''}.`;
  } else if (e.keyword === 'type') {
    message = `Invalid value for '${where}': expected ${String(params.type)}.`;
  } else if (e.keyword === 'pattern') {
    message = `Invalid value for '${where}': it has characters that are not allowed.`;
  } else if (e.keyword === 'minProperties') {
    message = 'The request body has no properties to change.';
  } else if (e.keyword === 'anyOf' || e.keyword === 'const' || e.keyword === 'enum') {
    message = `Invalid value for '${where}'.`;
  } else {
    message = `Invalid value for '${where}': ${e.message ?? 'not allowed'}.`;
  }
  return Object.assign(new Error(message), { validation: errors, statusCode: 400 });
}
